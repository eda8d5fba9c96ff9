#include "pagefl/rl/replay_buffer.h"

#include <torch/torch.h>

#include <numeric>

#include "pagefl/core/error.h"

namespace pagefl::rl {

namespace {
constexpr std::int64_t kFirstRows = 64;
}  // namespace

ReplayBuffer::ReplayBuffer(std::int64_t capacity, std::int64_t state_dim, std::int64_t action_dim)
    : capacity_(capacity),
      states_(torch::zeros({0, state_dim})),
      actions_(torch::zeros({0, action_dim})),
      rewards_(torch::zeros({0, 1})),
      next_states_(torch::zeros({0, state_dim})) {
  if (capacity < 1) throw Error("replay capacity must be at least 1, not {}", capacity);
}

void ReplayBuffer::grow() {
  const std::int64_t extra = std::min(capacity_, std::max(kFirstRows, 2 * rows())) - rows();
  auto extend = [extra](torch::Tensor& storage) {
    storage = torch::cat({storage, torch::zeros({extra, storage.size(1)})});
  };
  extend(states_), extend(actions_), extend(rewards_), extend(next_states_);
}

void ReplayBuffer::add(const torch::Tensor& state, const torch::Tensor& action, double reward,
                       const torch::Tensor& next_state) {
  if (position_ == rows()) grow();  // only before the first wrap: afterwards every row exists
  states_[position_].copy_(state.reshape({-1}));
  actions_[position_].copy_(action.reshape({-1}));
  rewards_[position_][0] = reward;
  next_states_[position_].copy_(next_state.reshape({-1}));
  position_ = (position_ + 1) % capacity();
  size_ = std::min(size_ + 1, capacity());
}

void ReplayBuffer::restore(TransitionBatch storage, std::int64_t size, std::int64_t position) {
  const std::int64_t stored = storage.states.dim() == 2 ? storage.states.size(0) : -1;
  auto fits = [stored](const torch::Tensor& t, std::int64_t width) {
    return t.dim() == 2 && t.size(0) == stored && t.size(1) == width && t.scalar_type() == torch::kFloat32 &&
           torch::isfinite(t).all().item<bool>();
  };
  if (stored < 0 || stored > capacity_ || !fits(storage.states, states_.size(1)) ||
      !fits(storage.actions, actions_.size(1)) || !fits(storage.rewards, 1) ||
      !fits(storage.next_states, next_states_.size(1)))
    throw Error("the saved replay buffer has other dimensions, more rows than its capacity of {}, or NaN/Inf values",
                capacity_);
  // Before the first wrap the next slot is the first row not yet stored; afterwards any row.
  const bool consistent = size >= 0 && size <= stored && position >= 0 && position <= stored && position < capacity_ &&
                          (size == capacity_ || position == size);
  if (!consistent)
    throw Error("the saved replay buffer's cursor ({} stored, next slot {}) does not fit its {} rows", size, position,
                stored);
  states_ = std::move(storage.states), actions_ = std::move(storage.actions);
  rewards_ = std::move(storage.rewards), next_states_ = std::move(storage.next_states);
  size_ = size;
  position_ = position;
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
