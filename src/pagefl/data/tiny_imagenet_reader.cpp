#include "pagefl/data/tiny_imagenet_reader.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
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

Dataset decodeAll(const std::vector<LabelledFile>& files) {
  const auto n = static_cast<std::int64_t>(files.size());
  auto pixels = torch::empty({n, kSide, kSide, 3}, torch::kUInt8);
  auto labels = torch::empty({n}, torch::kInt64);
  auto* out = pixels.data_ptr<std::uint8_t>();
  auto* label_out = labels.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::string name = files[i].path.string();
    RgbImage image = decodeJpeg(readBytes(files[i].path), name);
    if (image.width != kSide || image.height != kSide)
      throw Error("'{}' is {}x{}; Tiny-ImageNet images are {}x{}", name, image.width, image.height, kSide, kSide);
    std::copy(image.pixels.begin(), image.pixels.end(), out + i * kSide * kSide * 3);
    label_out[i] = files[i].label;
  }
  return {pixels.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0f).contiguous(), labels};
}

}  // namespace

TinyImageNet readTinyImageNet(const std::string& directory) {
  const fs::path root(directory);
  auto classes = readClassIndex(root);
  TinyImageNet out;
  out.train = decodeAll(trainFiles(root, classes));
  out.val = decodeAll(valFiles(root, classes));
  out.num_classes = static_cast<std::int64_t>(classes.size());
  if (out.train.size() == 0) throw Error("'{}' has no training images under train/<wnid>/images", directory);
  return out;
}

}  // namespace pagefl
