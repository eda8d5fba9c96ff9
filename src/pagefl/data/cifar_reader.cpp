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

Dataset readCifarBinary(const std::vector<std::string>& paths, CifarVariant variant) {
  const std::int64_t record = labelBytes(variant) + kImageBytes;
  std::vector<std::uint8_t> pixels;
  std::vector<std::int64_t> labels;
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot open CIFAR file '{}'", path);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto size = static_cast<std::int64_t>(bytes.size());
    if (size == 0 || size % record != 0)
      throw Error("'{}' is truncated or not a CIFAR-{} binary file: its {} bytes are not a whole number of {}-byte records",
                  path, numClasses(variant), size, record);
    for (std::int64_t offset = 0; offset < size; offset += record) {
      std::int64_t label = bytes[offset + labelBytes(variant) - 1];  // fine label comes last
      if (label >= numClasses(variant))
        throw Error("'{}' record {} has label {}, beyond the {} classes of CIFAR-{}", path, offset / record, label,
                    numClasses(variant), numClasses(variant));
      labels.push_back(label);
      pixels.insert(pixels.end(), bytes.begin() + offset + labelBytes(variant), bytes.begin() + offset + record);
    }
  }
  const auto n = static_cast<std::int64_t>(labels.size());
  auto x = torch::from_blob(pixels.data(), {n, 3, 32, 32}, torch::kUInt8).to(torch::kFloat32).div_(255.0f);
  auto y = torch::from_blob(labels.data(), {n}, torch::kInt64).clone();
  return {x, y};
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
