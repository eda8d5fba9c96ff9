// DDPG (Lillicrap et al. 2016) as PAGE's published code configures it: small actor and critic
// MLPs, target networks with soft updates, Adam, a replay ring buffer, OU exploration noise whose
// scale epsilon decays linearly, and a warm-up of random actions. Tiny and CPU-only.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>

#include <functional>
#include <iosfwd>
#include <memory>
#include <random>

#include "pagefl/rl/ou_noise.h"
#include "pagefl/rl/replay_buffer.h"

namespace pagefl::rl {

struct DdpgOptions {
  std::int64_t state_dim = 1;
  std::int64_t action_dim = 1;
  std::int64_t hidden1 = 40;
  std::int64_t hidden2 = 30;
  double critic_lr = 1e-3;
  double actor_lr = 1e-4;
  double tau = 0.001;    // soft target update
  double gamma = 0.99;   // discount
  std::int64_t replay_capacity = 60000;
  std::int64_t batch_size = 32;
  std::int64_t warmup = 35;           // acts with random actions before the policy acts and learns
  bool inclusive_warmup = false;      // the published loop's `step <= warmup`: warmup + 1 random acts
  bool sample_without_replacement = false;  // the published replay draws distinct transitions
  double epsilon_decay_steps = 500;   // epsilon falls by 1/this at every act after warm-up
  // DDPG updates per update() call, i.e. per round: the published code makes one. More reuse the
  // replay, so that a run of few rounds gives its agents as many updates as a long one.
  std::int64_t updates_per_call = 1;
  OuOptions noise;
};

// Actor: state -> 40 -> ReLU -> 30 -> ReLU -> action -> tanh.
class Actor final : public torch::nn::Module {
 public:
  Actor(const DdpgOptions& options);
  torch::Tensor forward(const torch::Tensor& state);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
};

// Critic: state -> 40 -> ReLU, concatenated with the action -> 30 -> ReLU -> 1.
class Critic final : public torch::nn::Module {
 public:
  Critic(const DdpgOptions& options);
  torch::Tensor forward(const torch::Tensor& state, const torch::Tensor& action);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
};

class DdpgAgent {
 public:
  // Network weights come from `init`: U(+-1/sqrt(out_features)) for the first two layers (the
  // published code's "fan"), U(+-3e-3) for the last, biases U(+-1/sqrt(in_features)).
  DdpgAgent(const DdpgOptions& options, at::Generator init);

  using WarmupDraw = std::function<torch::Tensor(std::mt19937_64&)>;

  // One act. During warm-up returns warmup_draw(rng); afterwards actor(state), plus, when
  // `explore`, max(epsilon, 0) * OU noise (not clipped: the caller's action map bounds it), and
  // epsilon decays.
  torch::Tensor act(const torch::Tensor& state, std::mt19937_64& rng, const WarmupDraw& warmup_draw,
                    bool explore = true);
  // The actor's output without noise, no state change.
  torch::Tensor policy(const torch::Tensor& state);

  void remember(const torch::Tensor& state, const torch::Tensor& action, double reward,
                const torch::Tensor& next_state) {
    replay_.add(state, action, reward, next_state);
  }
  // `updates_per_call` DDPG updates, each from its own replay minibatch, once the policy has acted
  // (the first update follows the first policy act) and the buffer holds a transition. Returns
  // whether it updated.
  bool update(std::mt19937_64& rng);

  // Random acts before the policy's first.
  std::int64_t randomActs() const { return options_.warmup + (options_.inclusive_warmup ? 1 : 0); }
  // Whether the next act is random.
  bool warmingUp() const { return acts_ < randomActs(); }
  std::int64_t acts() const { return acts_; }
  std::int64_t updates() const { return updates_; }
  double epsilon() const { return epsilon_; }
  const ReplayBuffer& replay() const { return replay_; }
  const DdpgOptions& options() const { return options_; }

  // The complete agent: networks, targets, optimiser moments, replay, noise, epsilon, counters.
  void save(std::ostream& out) const;
  // Throws pagefl::Error when the stream is not an agent of the same shape.
  void load(std::istream& in);

 private:
  void updateOnce(std::mt19937_64& rng);

  DdpgOptions options_;
  std::shared_ptr<Actor> actor_, actor_target_;
  std::shared_ptr<Critic> critic_, critic_target_;
  std::unique_ptr<torch::optim::Adam> actor_optimizer_, critic_optimizer_;
  ReplayBuffer replay_;
  OuNoise noise_;
  double epsilon_ = 1.0;
  std::int64_t acts_ = 0;
  std::int64_t updates_ = 0;
};

}  // namespace pagefl::rl
