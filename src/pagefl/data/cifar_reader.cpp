#include "pagefl/data/cifar_reader.h"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "pagefl/core/error.h"

namespace pagefl {
namespace {

constexpr std::int64_t kImageBytes = 3 * 32 * 32;

std::int64_t labelBytes(CifarVariant variant) { return variant == CifarVariant::Cifar10 ? 1 : 2; }
std::int64_t numClasses(CifarVariant variant) { return variant == CifarVariant::Cifar10 ? 10 : 100; }

std::vector<std::string> existingFiles(const std::string& directory, const std::vector<std::string>& names) {
  std::vector<std::string> paths;
  for (const std::string& name : names) {
    auto path = std::filesystem::path(directory) / name;
    if (std::filesystem::is_directory(path))
      throw Error("CIFAR file '{}' is a directory; it must be the extracted .bin file", path.string());
    if (!std::filesystem::is_regular_file(path))
      throw Error("missing CIFAR file '{}' (set data.path to the extracted *-batches-bin directory)", path.string());
    paths.push_back(path.string());
  }
  return paths;
}

}  // namespace

namespace {

// Calls `visit(index, label, pixels)` for every record of the files in order, one record in
// memory at a time, after checking each file is a whole number of records with labels in range.
template <typename Visit>
void forEachRecord(const std::vector<std::string>& paths, CifarVariant variant, Visit visit) {
  const std::int64_t record = labelBytes(variant) + kImageBytes;
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(record));
  std::int64_t index = 0;
  for (const std::string& path : paths) {
    std::error_code error;
    const auto size = static_cast<std::int64_t>(std::filesystem::file_size(path, error));
    if (error) throw Error("cannot open CIFAR file '{}': {}", path, error.message());
    if (size == 0 || size % record != 0)
      throw Error("'{}' is truncated or not a CIFAR-{} binary file: its {} bytes are not a whole number of {}-byte records",
                  path, numClasses(variant), size, record);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot open CIFAR file '{}'", path);
    for (std::int64_t r = 0; r < size / record; ++r, ++index) {
      if (!in.read(reinterpret_cast<char*>(bytes.data()), record))
        throw Error("'{}' could not be read past record {}: the file changed or the disk failed", path, r);
      const std::int64_t label = bytes[labelBytes(variant) - 1];  // fine label comes last
      if (label >= numClasses(variant))
        throw Error("'{}' record {} has label {}, beyond the {} classes of CIFAR-{}", path, r, label,
                    numClasses(variant), numClasses(variant));
      visit(index, label, bytes.data() + labelBytes(variant));
    }
  }
}

}  // namespace

torch::Tensor readCifarLabels(const std::vector<std::string>& paths, CifarVariant variant) {
  std::vector<std::int64_t> labels;
  forEachRecord(paths, variant,
                [&](std::int64_t, std::int64_t label, const std::uint8_t*) { labels.push_back(label); });
  return torch::tensor(labels, torch::kInt64);
}

torch::Tensor readCifarImages(const std::vector<std::string>& paths, CifarVariant variant,
                              const std::vector<std::int64_t>* rows) {
  std::vector<std::uint8_t> pixels;
  std::size_t next = 0;
  std::int64_t records = 0;
  forEachRecord(paths, variant, [&](std::int64_t index, std::int64_t, const std::uint8_t* image) {
    records = index + 1;
    if (rows && (next == rows->size() || (*rows)[next] != index)) return;
    pixels.insert(pixels.end(), image, image + kImageBytes);
    ++next;
  });
  if (rows && next != rows->size())
    throw Error("CIFAR record {} asked for is not one of the {} records in ascending order", (*rows)[next], records);
  const auto n = static_cast<std::int64_t>(pixels.size()) / kImageBytes;
  return torch::from_blob(pixels.data(), {n, 3, 32, 32}, torch::kUInt8).to(torch::kFloat32).div_(255.0f);
}

Dataset readCifarBinary(const std::vector<std::string>& paths, CifarVariant variant) {
  torch::Tensor labels = readCifarLabels(paths, variant);
  return {readCifarImages(paths, variant), labels};
}

std::vector<std::string> cifarTrainFiles(const std::string& directory, CifarVariant variant) {
  if (variant == CifarVariant::Cifar100) return existingFiles(directory, {"train.bin"});
  return existingFiles(directory, {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                                   "data_batch_5.bin"});
}

std::vector<std::string> cifarTestFiles(const std::string& directory, CifarVariant variant) {
  return existingFiles(directory, {variant == CifarVariant::Cifar100 ? "test.bin" : "test_batch.bin"});
}

}  // namespace pagefl
