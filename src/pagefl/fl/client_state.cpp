#include "pagefl/fl/client_state.h"

#include <torch/torch.h>

#include <algorithm>
#include <sstream>
#include <vector>

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

ClientStateStore::ClientStateStore() = default;

ClientStateStore::ClientStateStore(std::int64_t memory_bytes, const std::string& spill_directory)
    : budget_(memory_bytes) {
  if (budget_ > 0) spill_ = std::make_unique<StateSpillFile>(spill_directory);
}

ClientStateStore::~ClientStateStore() = default;

ClientState& ClientStateStore::at(std::int64_t client) {
  std::lock_guard lock(mutex_);
  last_use_[client] = ++uses_;
  auto& slot = states_[client];
  if (!slot) {
    slot = std::make_unique<ClientState>();
    if (auto spilled = spilled_bytes_.find(client); spilled != spilled_bytes_.end()) {
      const std::optional<std::string> bytes = spill_->get(client);
      if (!bytes) throw Error("client state spill file {} lost the state of client {}: something else changed the file; "
                    "keep run.spill_dir private to this run and rerun it",
                    spill_->path(), client);
      slot->restore(deserializeTensors(*bytes, "the spilled state of client " + std::to_string(client)));
      spilled_bytes_.erase(spilled);
    }
  }
  return *slot;
}

void ClientStateStore::enforceBudget() {
  std::lock_guard lock(mutex_);
  if (budget_ <= 0) return;
  std::int64_t in_memory = 0;
  std::vector<std::pair<std::uint64_t, std::int64_t>> by_use;
  for (const auto& [client, state] : states_) {
    in_memory += state->bytes();
    by_use.emplace_back(last_use_[client], client);
  }
  std::sort(by_use.begin(), by_use.end());
  for (const auto& [use, client] : by_use) {
    if (in_memory <= budget_) break;
    ClientState& state = *states_.at(client);
    const std::int64_t size = state.bytes();
    spill_->put(client, serializeTensors(state.save()));
    spilled_bytes_[client] = size;
    states_.erase(client);
    in_memory -= size;
  }
}

std::int64_t ClientStateStore::size() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::int64_t>(states_.size() + spilled_bytes_.size());
}

std::int64_t ClientStateStore::memoryBytes() const {
  std::lock_guard lock(mutex_);
  std::int64_t total = 0;
  for (const auto& [client, state] : states_) total += state->bytes();
  return total;
}

std::int64_t ClientStateStore::bytes() const {
  std::int64_t total = memoryBytes();
  std::lock_guard lock(mutex_);
  for (const auto& [client, size] : spilled_bytes_) total += size;
  return total;
}

}  // namespace pagefl
