// A ring buffer of (state, action, reward, next state) transitions for off-policy RL.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <random>
#include <vector>

namespace pagefl::rl {

struct TransitionBatch {
  torch::Tensor states, actions, rewards, next_states;  // [B, S], [B, A], [B, 1], [B, S]
};

class ReplayBuffer {
 public:
  ReplayBuffer(std::int64_t capacity, std::int64_t state_dim, std::int64_t action_dim);

  // Stores a transition, overwriting the oldest once the buffer is full.
  void add(const torch::Tensor& state, const torch::Tensor& action, double reward, const torch::Tensor& next_state);
  // `count` transitions drawn uniformly with replacement. Throws pagefl::Error when empty.
  TransitionBatch sample(std::int64_t count, std::mt19937_64& rng) const;
  // min(count, size()) distinct transitions drawn uniformly (a partial Fisher-Yates shuffle).
  // Throws pagefl::Error when empty.
  TransitionBatch sampleDistinct(std::int64_t count, std::mt19937_64& rng) const;

  std::int64_t size() const { return size_; }
  std::int64_t capacity() const { return states_.size(0); }
  // The slot the next transition goes to.
  std::int64_t position() const { return position_; }
  // The transition in slot i (tests and checkpoints).
  TransitionBatch at(std::int64_t slot) const;

  // The complete state, for checkpoints.
  const torch::Tensor& states() const { return states_; }
  const torch::Tensor& actions() const { return actions_; }
  const torch::Tensor& rewards() const { return rewards_; }
  const torch::Tensor& nextStates() const { return next_states_; }
  torch::Tensor& states() { return states_; }
  torch::Tensor& actions() { return actions_; }
  torch::Tensor& rewards() { return rewards_; }
  torch::Tensor& nextStates() { return next_states_; }
  void restoreCursor(std::int64_t size, std::int64_t position) { size_ = size, position_ = position; }

 private:
  TransitionBatch gather(const std::vector<std::int64_t>& slots) const;

  torch::Tensor states_, actions_, rewards_, next_states_;
  std::int64_t size_ = 0;
  std::int64_t position_ = 0;
};

}  // namespace pagefl::rl
