#include "pagefl/fl/state_archive.h"

#include <torch/torch.h>

#include "pagefl/core/error.h"
#include "pagefl/core/safetensors.h"

namespace pagefl {

std::string serializeTensors(const NamedTensors& tensors) { return safetensors::encode(tensors); }

NamedTensors deserializeTensors(const std::string& bytes, const std::string& what) {
  return safetensors::decode(bytes, what).tensors;
}

torch::Tensor bytesTensor(const std::string& bytes) {
  torch::Tensor tensor = torch::empty({static_cast<std::int64_t>(bytes.size())}, torch::kUInt8);
  if (!bytes.empty()) std::memcpy(tensor.data_ptr(), bytes.data(), bytes.size());
  return tensor;
}

std::string tensorBytes(const torch::Tensor& tensor) {
  const torch::Tensor bytes = tensor.to(torch::kUInt8).contiguous();
  return std::string(static_cast<const char*>(bytes.data_ptr()), static_cast<std::size_t>(bytes.numel()));
}

const torch::Tensor& requireTensor(const NamedTensors& state, const std::string& key, const std::string& what) {
  auto it = state.find(key);
  if (it == state.end()) throw Error("{} lacks '{}': it was written by another algorithm or version", what, key);
  return it->second;
}

}  // namespace pagefl
