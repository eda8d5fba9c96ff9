#include "pagefl/fl/client_state.h"

#include <torch/torch.h>

namespace pagefl {

std::int64_t ClientState::bytes() const {
  std::int64_t total = 0;
  for (const auto& [key, tensor] : tensors_)
    if (tensor.defined()) total += tensor.numel() * static_cast<std::int64_t>(tensor.element_size());
  return total;
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
