// A ring buffer of (state, action, reward, next state) transitions for off-policy RL. Its storage
// grows with the transitions stored, up to the capacity, so that a large page.replay_capacity
// costs memory only once a run has filled it.
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
  std::int64_t capacity() const { return capacity_; }
  // The slot the next transition goes to.
  std::int64_t position() const { return position_; }
  // The transition in slot i (tests and checkpoints).
  TransitionBatch at(std::int64_t slot) const;

  // The complete state, for checkpoints: the storage so far (at most capacity() rows) and the cursor.
  const torch::Tensor& states() const { return states_; }
  const torch::Tensor& actions() const { return actions_; }
  const torch::Tensor& rewards() const { return rewards_; }
  const torch::Tensor& nextStates() const { return next_states_; }
  // Replaces the state with a saved one. Throws pagefl::Error when it cannot be this buffer's:
  // other dimensions, more rows than the capacity, a cursor outside the rows, NaN or Inf.
  void restore(TransitionBatch storage, std::int64_t size, std::int64_t position);

 private:
  TransitionBatch gather(const std::vector<std::int64_t>& slots) const;
  std::int64_t rows() const { return states_.size(0); }
  void grow();

  std::int64_t capacity_;
  torch::Tensor states_, actions_, rewards_, next_states_;
  std::int64_t size_ = 0;
  std::int64_t position_ = 0;
};

}  // namespace pagefl::rl
