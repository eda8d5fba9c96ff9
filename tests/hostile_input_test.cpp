// Hostile and broken input, as a user pointing pagefl at files it did not write would produce:
// each case gets a clear pagefl::Error naming the file or key and the fix, never a crash, an
// internal error or an allocation the input does not justify.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "pagefl/core/config.h"
#include "pagefl/core/error.h"
#include "pagefl/data/data_source.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/data/idx_reader.h"
#include "pagefl/data/jpeg_codec.h"
#include "pagefl/data/leaf_json.h"
#include "pagefl/nn/models.h"
#include "test_support.h"

namespace pagefl {
namespace {

using testing::errorOf;
using testing::TempDir;

bool mentions(const std::string& message, const std::string& text) { return message.find(text) != std::string::npos; }

TEST(HostileData, IdxLabelsOutsideTheClassesAreRefusedWhereTheyAreRead) {
  TempDir dir;
  testing::writeMnistLikeDataset(dir.path().string(), 30, 10, false);
  IdxArray labels = readIdx(dir.file("train-labels-idx1-ubyte"));
  labels.values[7] = 12;
  writeIdx(dir.file("train-labels-idx1-ubyte"), labels, false);
  Config config = parseConfig("", {"data.source=\"mnist\"", "data.path=\"" + dir.path().string() + "\""}, "test");
  const std::string error = errorOf([&] { loadSource(config, RngStreams(1)); });
  EXPECT_TRUE(mentions(error, "train-labels-idx1-ubyte' holds label 12, outside the 10 classes")) << error;
}

TEST(HostileData, IdxHeadersThatLieAreRefusedBeforeTheyAreBelieved) {
  TempDir dir;
  writeIdx(dir.file("zero-pixels"), {{2, 0, 28}, {}}, false);
  writeIdx(dir.file("labels"), {{2}, {0, 1}}, false);
  EXPECT_TRUE(mentions(errorOf([&] { readIdxImagesAndLabels(dir.file("zero-pixels"), dir.file("labels")); }),
                       "at least one pixel"));
  // 2^31 elements claimed over a 16-byte body: refused as truncated, reading only what is there.
  std::ofstream(dir.file("claims"), std::ios::binary)
      << std::string("\0\0\x08\x01\x80\0\0\0", 8) << std::string(16, '\x01');
  EXPECT_TRUE(mentions(errorOf([&] { readIdx(dir.file("claims")); }), "truncated: its header promises 2147483648"));
  // One item of 2^34 bytes claimed, read as a rank reads chosen items: refused as truncated too,
  // with memory following the bytes there, not the 16 GiB claimed.
  std::ofstream(dir.file("one-huge-item"), std::ios::binary)
      << std::string("\0\0\x08\x03\0\0\0\x01\0\x01\0\0\0\x04\0\0", 16) << std::string(16, '\x01');
  const std::vector<std::int64_t> first = {0};
  EXPECT_TRUE(mentions(errorOf([&] { readIdx(dir.file("one-huge-item"), &first); }),
                       "truncated: its header promises 17179869184 values but it holds 16"));
  // Found by the fuzz harness: 4 billion empty items claimed (one dimension 0) took minutes to
  // read past, one by one; they hold nothing, so there is nothing to read.
  std::ofstream(dir.file("empty-items"), std::ios::binary) << std::string("\0\0\x08\x02\xff\xff\xff\xff\0\0\0\0", 12);
  EXPECT_EQ(readIdx(dir.file("empty-items"), &first).values.size(), 0u);
  std::filesystem::create_directory(dir.file("a-directory"));
  EXPECT_TRUE(mentions(errorOf([&] { readIdx(dir.file("a-directory")); }), "is a directory"));
}

std::string leafError(const TempDir& dir, const std::string& text) {
  std::ofstream(dir.file("bad.json")) << text;
  return errorOf([&] { readLeafJson(dir.file("bad.json")); });
}

TEST(HostileData, LeafFilesThatWouldCrashOrMisleadGetClearErrors) {
  TempDir dir;
  EXPECT_TRUE(mentions(leafError(dir, R"({"users": ["u"], "user_data": {"u": {"x": [[1e400]], "y": [0]}}})"),
                       "not valid JSON"));
  EXPECT_TRUE(mentions(leafError(dir, R"({"users": ["u"], "user_data": {"u": {"x": [[1e39]], "y": [0]}}})"),
                       "beyond the range of a float"));
  EXPECT_TRUE(mentions(leafError(dir, R"({"users": ["u"], "user_data": {"u": {"x": [[1]], "y": [100000000]}}})"),
                       "an integer in 0..65535"));
  EXPECT_TRUE(mentions(leafError(dir, R"({"users": ["u"], "user_data": {"u": {"x": [[]], "y": [0]}}})"),
                       "sample 0: x has no features"));
  EXPECT_TRUE(mentions(leafError(dir, R"({"users": ["u"], "user_data": {"u": {"x": ["ab", [1, 2]], "y": [0, 1]}}})"),
                       "sample 1: x is numbers but sample 0's is a string"));
  EXPECT_TRUE(mentions(leafError(dir, R"({"users": ["u", "v"], "user_data": {"u": {"x": [[1]], "y": [0]},
                                         "v": {"x": [[1, 2]], "y": [0]}}})"),
                       "every user needs the same features"));
  // A huge label is quoted, not echoed.
  const std::string huge_label(1'000'000, 'z');
  const std::string error = leafError(dir, R"({"users": ["u"], "user_data": {"u": {"x": [[1]], "y": [")" +
                                                  huge_label + R"("]}}})");
  EXPECT_TRUE(mentions(error, "characters)")) << error.substr(0, 300);
  EXPECT_LT(error.size(), 400u);
  // A user without samples takes the others' shape, so that the users can be pooled.
  std::ofstream(dir.file("empty-user.json"))
      << R"({"users": ["u", "v"], "user_data": {"u": {"x": [[1, 2]], "y": [0]}, "v": {"x": [], "y": []}}})";
  const LeafFile file = readLeafJson(dir.file("empty-user.json"));
  EXPECT_EQ(file.users[1].data.x.sizes(), (std::vector<std::int64_t>{0, 2}));
}

// Found by bench/hostile_inputs.py: a train file whose users hold no samples ended in a LibTorch
// error (exit 3); a number label beside a character label was read as its character's class.
TEST(HostileData, LeafFilesThatDisagreeWithEachOtherGetClearErrors) {
  TempDir dir;
  auto sourceError = [&](const std::string& train, const std::string& test) {
    std::ofstream(dir.file("train.json")) << train;
    std::ofstream(dir.file("test.json")) << test;
    Config config = parseConfig("",
                                {"data.source=\"leaf\"", "data.leaf_train=\"" + dir.file("train.json") + "\"",
                                 "data.leaf_test=\"" + dir.file("test.json") + "\""},
                                "test");
    return errorOf([&] { loadSource(config, RngStreams(1)); });
  };
  const std::string two_features = R"({"users": ["u"], "user_data": {"u": {"x": [[1, 2]], "y": [0]}}})";
  EXPECT_TRUE(mentions(sourceError(R"({"users": ["u"], "user_data": {"u": {"x": [], "y": []}}})", two_features),
                       "train.json' holds no training samples"));
  const std::string error =
      sourceError(two_features, R"({"users": ["u"], "user_data": {"u": {"x": [[1, 2, 3]], "y": [0]}}})");
  EXPECT_TRUE(mentions(error, "test.json' has samples of shape [3] but")) << error;
  EXPECT_TRUE(mentions(leafError(dir, R"({"users": ["u"], "user_data": {"u": {"x": [[1], [2]], "y": [0, "a"]}}})"),
                       "sample 1: label is a string but sample 0's is a number"));
}

TEST(HostileData, AJpegHeaderClaimingGiantImagesIsRefusedBeforeDecoding) {
  RgbImage image{4, 4, std::vector<std::uint8_t>(48, 128)};
  std::vector<std::uint8_t> bytes = encodeJpeg(image);
  // The SOF0 marker's height and width fields (big-endian) set to 65000 x 65000.
  for (std::size_t i = 0; i + 8 < bytes.size(); ++i)
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xC0) {
      bytes[i + 5] = bytes[i + 7] = 0xFD;
      bytes[i + 6] = bytes[i + 8] = 0xE8;
    }
  EXPECT_TRUE(mentions(errorOf([&] { decodeJpeg(bytes, "giant.JPEG"); }), "implausible for a JPEG file"));
}

TEST(HostileConfig, RunNamesAreSinglePathComponents) {
  for (const char* name : {"../../x", "a/b", "..", ""})
    EXPECT_TRUE(mentions(errorOf([&] { parseConfig("", {fmt::format("run.name=\"{}\"", name)}, "test"); }),
                         "must be a plain name"))
        << name;
  const std::string error = errorOf([] { parseConfig("", {"run.name=\"" + std::string(100'000, 'n') + "\""}, "t"); });
  EXPECT_TRUE(mentions(error, "must be a plain name"));
  EXPECT_LT(error.size(), 400u);
}

TEST(HostileConfig, ExtendingADirectoryIsRefused) {
  TempDir dir;
  std::ofstream(dir.file("child.toml")) << "extends = \".\"\n";
  EXPECT_TRUE(mentions(errorOf([&] { loadConfig(dir.file("child.toml")); }), "is a directory"));
}

TEST(HostileConfig, SettingsImplyingMoreMemoryThanTheMachineHasAreRefusedWithTheEstimate) {
  const ModelSpec huge{"mlp", {784}, 10, {1'000'000, 1'000'000}};
  EXPECT_TRUE(mentions(errorOf([&] { makeNetwork(huge); }), "GB per replica"));
  Config config = parseConfig("", {"data.source=\"synthetic\"", "synthetic.num_clients=1000000",
                                   "synthetic.samples_per_client=100000000"},
                              "test");
  EXPECT_TRUE(mentions(errorOf([&] { loadSource(config, RngStreams(1)); }), "needs about"));
}

TEST(HostileConfig, MoreClientsThanSamplesIsRefused) {
  TempDir dir;
  testing::writeMnistLikeDataset(dir.path().string(), 300, 10, false);
  Config config = parseConfig("", {"data.source=\"mnist\"", "data.path=\"" + dir.path().string() + "\"",
                                   "partition.scheme=\"iid\"", "partition.num_clients=1000"},
                              "test");
  EXPECT_TRUE(mentions(errorOf([&] { buildFederatedDataset(config); }), "700 clients would hold no data"));
}

}  // namespace
}  // namespace pagefl
