// Tiny-ImageNet-200 reader and JPEG codec on a tiny generated copy of the download layout.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fmt/format.h>
#include <fstream>

#include "pagefl/core/config.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/data/jpeg_codec.h"
#include "pagefl/data/tiny_imagenet_reader.h"
#include "test_support.h"

namespace pagefl {
namespace {

using testing::errorOf;
using testing::TempDir;
using testing::writeBytes;
namespace fs = std::filesystem;

// One flat colour per class, so labels can be checked from pixels despite JPEG's loss.
RgbImage flatImage(std::uint8_t red, int side = 64) {
  RgbImage image{side, side, {}};
  for (int p = 0; p < side * side; ++p) image.pixels.insert(image.pixels.end(), {red, 20, 200});
  return image;
}

// wnids.txt lists the classes unsorted; class c's images have red = 40 + 80 c in sorted order.
const std::vector<std::string> kWnidsInFileOrder = {"n03", "n01", "n02"};

void writeTinyImageNet(const fs::path& root, int train_per_class) {
  fs::create_directories(root / "val" / "images");
  std::ofstream(root / "wnids.txt") << "n03\nn01\nn02\n";
  std::ofstream annotations(root / "val" / "val_annotations.txt");
  for (const std::string& wnid : kWnidsInFileOrder) {
    const int sorted_index = wnid[2] - '1';
    const auto red = static_cast<std::uint8_t>(40 + 80 * sorted_index);
    fs::create_directories(root / "train" / wnid / "images");
    for (int i = 0; i < train_per_class; ++i)
      writeBytes((root / "train" / wnid / "images" / fmt::format("{}_{}.JPEG", wnid, i)).string(),
                 encodeJpeg(flatImage(red)));
    const std::string val_name = fmt::format("val_{}.JPEG", sorted_index);
    writeBytes((root / "val" / "images" / val_name).string(), encodeJpeg(flatImage(red)));
    annotations << val_name << '\t' << wnid << "\t0\t0\t63\t63\n";
  }
}

TEST(JpegCodec, EncodeThenDecodeKeepsSizeAndColour) {
  RgbImage decoded = decodeJpeg(encodeJpeg(flatImage(120, 8)), "flat.jpg");
  EXPECT_EQ(decoded.width, 8);
  EXPECT_EQ(decoded.height, 8);
  ASSERT_EQ(decoded.pixels.size(), 8u * 8u * 3u);
  EXPECT_NEAR(decoded.pixels[0], 120, 3);
  EXPECT_NEAR(decoded.pixels[2], 200, 3);
  EXPECT_NE(errorOf([] { decodeJpeg({1, 2, 3}, "junk.jpg"); }).find("'junk.jpg' is not a readable JPEG"),
            std::string::npos);
  RgbImage noisy = flatImage(0, 64);
  for (std::size_t i = 0; i < noisy.pixels.size(); ++i) noisy.pixels[i] = static_cast<std::uint8_t>(i * 7919 % 251);
  auto truncated = encodeJpeg(noisy);
  truncated.resize(truncated.size() * 3 / 4);
  EXPECT_NE(errorOf([&] { decodeJpeg(truncated, "cut.jpg"); }).find("'cut.jpg' is a damaged JPEG"), std::string::npos);
}

TEST(TinyImageNetReader, ReadsTrainAndValWithSortedWnidClasses) {
  TempDir dir;
  writeTinyImageNet(dir.path(), 2);
  TinyImageNet data = readTinyImageNet(dir.path().string());
  EXPECT_EQ(data.num_classes, 3);
  EXPECT_EQ(data.train.x.sizes(), (std::vector<std::int64_t>{6, 3, 64, 64}));
  EXPECT_EQ(data.val.x.sizes(), (std::vector<std::int64_t>{3, 3, 64, 64}));
  for (const Dataset* split : {&data.train, &data.val}) {
    for (std::int64_t i = 0; i < split->size(); ++i) {
      const std::int64_t label = split->y[i].item<std::int64_t>();
      EXPECT_NEAR(split->x[i][0][10][10].item<float>() * 255.0f, 40.0f + 80.0f * label, 3.0f) << "sample " << i;
      EXPECT_NEAR(split->x[i][2][10][10].item<float>() * 255.0f, 200.0f, 3.0f);
    }
  }
  EXPECT_TRUE(torch::equal(data.train.y, torch::tensor({0, 0, 1, 1, 2, 2}, torch::kInt64)));
}

TEST(TinyImageNetReader, BrokenLayoutsNameWhatToFix) {
  TempDir dir;
  EXPECT_NE(errorOf([&] { readTinyImageNet(dir.path().string()); }).find("wnids.txt"), std::string::npos);

  writeTinyImageNet(dir.path(), 1);
  writeBytes(dir.file("train/n02/images/n02_0.JPEG"), encodeJpeg(flatImage(1, 32)));
  EXPECT_NE(errorOf([&] { readTinyImageNet(dir.path().string()); }).find("n02_0.JPEG' is 32x32"), std::string::npos);

  writeBytes(dir.file("train/n02/images/n02_0.JPEG"), {0xFF, 0xD8, 0x00});
  EXPECT_NE(errorOf([&] { readTinyImageNet(dir.path().string()); }).find("n02_0.JPEG"), std::string::npos);

  writeBytes(dir.file("train/n02/images/n02_0.JPEG"), encodeJpeg(flatImage(1)));
  std::ofstream(dir.path() / "val" / "val_annotations.txt", std::ios::app) << "val_9.JPEG\tn99\t0\t0\t1\t1\n";
  EXPECT_NE(errorOf([&] { readTinyImageNet(dir.path().string()); }).find("class 'n99' is not in wnids.txt"),
            std::string::npos);

  fs::remove_all(dir.path() / "train" / "n01");
  EXPECT_NE(errorOf([&] { readTinyImageNet(dir.path().string()); }).find("train/n01/images"), std::string::npos);
}

TEST(TinyImageNetReader, PaperConfigFederatesGeneratedData) {
  TempDir dir;
  writeTinyImageNet(dir.path(), 4);
  Config config = loadConfig(fmt::format("{}/configs/page-tiny-imagenet.toml", PAGEFL_SOURCE_DIR),
                             {"data.path=" + dir.path().string(), "partition.num_clients=2", "partition.min_size=1"});
  FederatedDataset data = buildFederatedDataset(config);
  EXPECT_EQ(data.numClients(), 2);
  EXPECT_EQ(data.num_classes, 3);
  EXPECT_EQ(data.local.size(), 12);
  EXPECT_EQ(data.server_test.size(), 3);
  EXPECT_EQ(data.sampleShape(), (std::vector<std::int64_t>{3, 64, 64}));
}

}  // namespace
}  // namespace pagefl
