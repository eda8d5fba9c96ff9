#include "pagefl/data/tiny_imagenet_reader.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "pagefl/core/error.h"
#include "pagefl/data/jpeg_codec.h"

namespace pagefl {
namespace {

namespace fs = std::filesystem;
constexpr int kSide = 64;

std::ifstream openText(const fs::path& path) {
  std::ifstream in(path);
  if (!in)
    throw Error("missing Tiny-ImageNet file '{}' (set data.path to the extracted tiny-imagenet-200 directory)",
                path.string());
  return in;
}

std::vector<std::uint8_t> readBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open image '{}'", path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct LabelledFile {
  fs::path path;
  std::int64_t label;
};

std::map<std::string, std::int64_t> readClassIndex(const fs::path& root) {
  std::ifstream in = openText(root / "wnids.txt");
  std::vector<std::string> wnids;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string wnid;
    if (fields >> wnid) wnids.push_back(wnid);
  }
  if (wnids.empty()) throw Error("'{}' lists no class ids", (root / "wnids.txt").string());
  std::sort(wnids.begin(), wnids.end());
  std::map<std::string, std::int64_t> index;
  for (const auto& wnid : wnids) index.emplace(wnid, static_cast<std::int64_t>(index.size()));
  return index;
}

std::vector<LabelledFile> trainFiles(const fs::path& root, const std::map<std::string, std::int64_t>& classes) {
  std::vector<LabelledFile> files;
  for (const auto& [wnid, label] : classes) {
    fs::path images = root / "train" / wnid / "images";
    if (!fs::is_directory(images))
      throw Error("missing Tiny-ImageNet directory '{}' for class {} of wnids.txt", images.string(), wnid);
    std::vector<fs::path> paths;
    for (const auto& entry : fs::directory_iterator(images))
      if (entry.is_regular_file()) paths.push_back(entry.path());
    std::sort(paths.begin(), paths.end());
    for (auto& path : paths) files.push_back({path, label});
  }
  return files;
}

std::vector<LabelledFile> valFiles(const fs::path& root, const std::map<std::string, std::int64_t>& classes) {
  const fs::path annotations = root / "val" / "val_annotations.txt";
  std::ifstream in = openText(annotations);
  std::vector<LabelledFile> files;
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    std::istringstream fields(line);
    std::string file, wnid;
    if (!(fields >> file)) continue;  // blank line
    if (!(fields >> wnid))
      throw Error("'{}' line {}: expected \"<file> <wnid> ...\", got \"{}\"", annotations.string(), line_number, line);
    auto it = classes.find(wnid);
    if (it == classes.end())
      throw Error("'{}' line {}: class '{}' is not in wnids.txt", annotations.string(), line_number, wnid);
    files.push_back({root / "val" / "images" / file, it->second});
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return files;
}

// The images of `files` at `rows` (ascending), [rows, 3, 64, 64] in [0, 1].
torch::Tensor decode(const std::vector<LabelledFile>& files, const std::vector<std::int64_t>& rows) {
  const auto n = static_cast<std::int64_t>(rows.size());
  auto pixels = torch::empty({n, kSide, kSide, 3}, torch::kUInt8);
  auto* out = pixels.data_ptr<std::uint8_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    const LabelledFile& file = files.at(static_cast<std::size_t>(rows[static_cast<std::size_t>(i)]));
    const std::string name = file.path.string();
    RgbImage image = decodeJpeg(readBytes(file.path), name);
    if (image.width != kSide || image.height != kSide)
      throw Error("'{}' is {}x{}; Tiny-ImageNet images are {}x{}", name, image.width, image.height, kSide, kSide);
    std::copy(image.pixels.begin(), image.pixels.end(), out + i * kSide * kSide * 3);
  }
  return pixels.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0f).contiguous();
}

// The files as a pool: labels at once, images decoded when read.
SamplePool poolOf(std::vector<LabelledFile> files) {
  std::vector<std::int64_t> labels;
  for (const LabelledFile& file : files) labels.push_back(file.label);
  auto shared = std::make_shared<const std::vector<LabelledFile>>(std::move(files));
  return SamplePool(torch::tensor(labels, torch::kInt64),
                    [shared](const std::vector<std::int64_t>& rows) { return decode(*shared, rows); });
}

}  // namespace

TinyImageNetFiles openTinyImageNet(const std::string& directory) {
  const fs::path root(directory);
  auto classes = readClassIndex(root);
  TinyImageNetFiles out;
  out.train = poolOf(trainFiles(root, classes));
  if (out.train.size() == 0) throw Error("'{}' has no training images under train/<wnid>/images", directory);
  out.val = poolOf(valFiles(root, classes));
  out.num_classes = static_cast<std::int64_t>(classes.size());
  return out;
}

TinyImageNet readTinyImageNet(const std::string& directory) {
  TinyImageNetFiles files = openTinyImageNet(directory);
  Dataset train = files.train.readAll();
  return {std::move(train), files.val.readAll(), files.num_classes};
}

}  // namespace pagefl
