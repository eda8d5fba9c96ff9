#include "pagefl/fl/client_state.h"

#include <torch/torch.h>

#include <sstream>

#include "pagefl/core/error.h"
#include "pagefl/fl/state_archive.h"

namespace pagefl {

std::int64_t ClientState::bytes() const {
  std::int64_t total = 0;
  for (const auto& [key, tensor] : tensors_)
    if (tensor.defined()) total += tensor.numel() * static_cast<std::int64_t>(tensor.element_size());
  return total;
}

namespace {
constexpr std::string_view kTensorPrefix = "tensor/";
constexpr std::string_view kObjectPrefix = "object/";
}  // namespace

std::map<std::string, torch::Tensor> ClientState::save() const {
  std::map<std::string, torch::Tensor> saved;
  for (const auto& [key, tensor] : tensors_)
    if (tensor.defined()) saved[std::string(kTensorPrefix) + key] = tensor;
  for (const auto& [key, slot] : objects_) {
    std::ostringstream bytes;
    slot.save(bytes);
    saved[std::string(kObjectPrefix) + key] = bytesTensor(bytes.str());
  }
  for (const auto& [key, bytes] : restored_objects_) saved[std::string(kObjectPrefix) + key] = bytesTensor(bytes);
  return saved;
}

void ClientState::restore(const std::map<std::string, torch::Tensor>& saved) {
  tensors_.clear();
  objects_.clear();
  restored_objects_.clear();
  for (const auto& [key, tensor] : saved) {
    if (key.starts_with(kTensorPrefix)) {
      tensors_[key.substr(kTensorPrefix.size())] = tensor;
    } else if (key.starts_with(kObjectPrefix)) {
      restored_objects_[key.substr(kObjectPrefix.size())] = tensorBytes(tensor);
    } else {
      throw Error("client state entry '{}' is neither a tensor nor an object: the file is not a client state", key);
    }
  }
}

void ClientState::loadObject(const std::string& bytes, const std::function<void(std::istream&)>& load) {
  std::istringstream in(bytes);
  load(in);
}

ClientState& ClientStateStore::at(std::int64_t client) {
  std::lock_guard lock(mutex_);
  auto& slot = states_[client];
  if (!slot) slot = std::make_unique<ClientState>();
  return *slot;
}

std::int64_t ClientStateStore::size() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::int64_t>(states_.size());
}

std::int64_t ClientStateStore::bytes() const {
  std::lock_guard lock(mutex_);
  std::int64_t total = 0;
  for (const auto& [client, state] : states_) total += state->bytes();
  return total;
}

}  // namespace pagefl
