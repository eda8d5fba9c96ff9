#include "pagefl/rl/replay_buffer.h"

#include <torch/torch.h>

#include <numeric>

#include "pagefl/core/error.h"

namespace pagefl::rl {

ReplayBuffer::ReplayBuffer(std::int64_t capacity, std::int64_t state_dim, std::int64_t action_dim)
    : states_(torch::zeros({capacity, state_dim})),
      actions_(torch::zeros({capacity, action_dim})),
      rewards_(torch::zeros({capacity, 1})),
      next_states_(torch::zeros({capacity, state_dim})) {
  if (capacity < 1) throw Error("replay capacity must be at least 1, not {}", capacity);
}

void ReplayBuffer::add(const torch::Tensor& state, const torch::Tensor& action, double reward,
                       const torch::Tensor& next_state) {
  states_[position_].copy_(state.reshape({-1}));
  actions_[position_].copy_(action.reshape({-1}));
  rewards_[position_][0] = reward;
  next_states_[position_].copy_(next_state.reshape({-1}));
  position_ = (position_ + 1) % capacity();
  size_ = std::min(size_ + 1, capacity());
}

TransitionBatch ReplayBuffer::sample(std::int64_t count, std::mt19937_64& rng) const {
  if (size_ == 0) throw Error("cannot sample from an empty replay buffer");
  std::uniform_int_distribution<std::int64_t> pick(0, size_ - 1);
  std::vector<std::int64_t> slots(static_cast<std::size_t>(count));
  for (auto& slot : slots) slot = pick(rng);
  return gather(slots);
}

TransitionBatch ReplayBuffer::sampleDistinct(std::int64_t count, std::mt19937_64& rng) const {
  if (size_ == 0) throw Error("cannot sample from an empty replay buffer");
  std::vector<std::int64_t> slots(static_cast<std::size_t>(size_));
  std::iota(slots.begin(), slots.end(), 0);
  const std::int64_t taken = std::min(count, size_);
  for (std::int64_t i = 0; i < taken; ++i) {
    std::uniform_int_distribution<std::int64_t> pick(i, size_ - 1);
    std::swap(slots[i], slots[pick(rng)]);
  }
  slots.resize(static_cast<std::size_t>(taken));
  return gather(slots);
}

TransitionBatch ReplayBuffer::gather(const std::vector<std::int64_t>& slots) const {
  auto index = torch::tensor(slots, torch::kInt64);
  return {states_.index_select(0, index), actions_.index_select(0, index), rewards_.index_select(0, index),
          next_states_.index_select(0, index)};
}

TransitionBatch ReplayBuffer::at(std::int64_t slot) const {
  return {states_[slot], actions_[slot], rewards_[slot], next_states_[slot]};
}

}  // namespace pagefl::rl
