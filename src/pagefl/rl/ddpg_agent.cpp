#include "pagefl/rl/ddpg_agent.h"

#include <torch/torch.h>

#include <array>
#include <cmath>
#include <iterator>
#include <string>
#include <utility>

#include "pagefl/core/error.h"
#include "pagefl/core/safetensors.h"
#include "pagefl/rl/module_state.h"

namespace pagefl::rl {
namespace {

void initLinear(torch::nn::Linear& layer, double weight_bound, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  layer->weight.uniform_(-weight_bound, weight_bound, gen);
  const double bias_bound = 1.0 / std::sqrt(static_cast<double>(layer->weight.size(1)));
  layer->bias.uniform_(-bias_bound, bias_bound, gen);
}

double fanBound(const torch::nn::Linear& layer) { return 1.0 / std::sqrt(static_cast<double>(layer->weight.size(0))); }

void copyParameters(torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto source = from.parameters();
  auto target = to.parameters();
  for (std::size_t i = 0; i < source.size(); ++i) target[i].copy_(source[i]);
}

// The agent's networks by the prefix of their entries in a saved agent.
std::array<std::pair<std::string, torch::nn::Module*>, 4> networksOf(Actor& actor, Actor& actor_target, Critic& critic,
                                                                     Critic& critic_target) {
  return {
      {{"actor/", &actor}, {"actor_target/", &actor_target}, {"critic/", &critic}, {"critic_target/", &critic_target}}};
}

void softUpdate(torch::nn::Module& from, torch::nn::Module& to, double tau) {
  torch::NoGradGuard no_grad;
  auto source = from.parameters();
  auto target = to.parameters();
  for (std::size_t i = 0; i < source.size(); ++i) target[i].mul_(1.0 - tau).add_(source[i], tau);
}

}  // namespace

Actor::Actor(const DdpgOptions& o) {
  fc1 = register_module("fc1", torch::nn::Linear(o.state_dim, o.hidden1));
  fc2 = register_module("fc2", torch::nn::Linear(o.hidden1, o.hidden2));
  fc3 = register_module("fc3", torch::nn::Linear(o.hidden2, o.action_dim));
}

torch::Tensor Actor::forward(const torch::Tensor& state) {
  return torch::tanh(fc3(torch::relu(fc2(torch::relu(fc1(state))))));
}

Critic::Critic(const DdpgOptions& o) {
  fc1 = register_module("fc1", torch::nn::Linear(o.state_dim, o.hidden1));
  fc2 = register_module("fc2", torch::nn::Linear(o.hidden1 + o.action_dim, o.hidden2));
  fc3 = register_module("fc3", torch::nn::Linear(o.hidden2, 1));
}

torch::Tensor Critic::forward(const torch::Tensor& state, const torch::Tensor& action) {
  auto hidden = torch::relu(fc1(state));
  return fc3(torch::relu(fc2(torch::cat({hidden, action}, 1))));
}

DdpgAgent::DdpgAgent(const DdpgOptions& options, at::Generator init)
    : options_(options),
      actor_(std::make_shared<Actor>(options)),
      actor_target_(std::make_shared<Actor>(options)),
      critic_(std::make_shared<Critic>(options)),
      critic_target_(std::make_shared<Critic>(options)),
      replay_(options.replay_capacity, options.state_dim, options.action_dim),
      noise_(options.action_dim, options.noise) {
  for (auto* net : {&actor_->fc1, &actor_->fc2}) initLinear(*net, fanBound(*net), init);
  initLinear(actor_->fc3, 3e-3, init);
  for (auto* net : {&critic_->fc1, &critic_->fc2}) initLinear(*net, fanBound(*net), init);
  initLinear(critic_->fc3, 3e-3, init);
  copyParameters(*actor_, *actor_target_);
  copyParameters(*critic_, *critic_target_);
  actor_optimizer_ = std::make_unique<torch::optim::Adam>(actor_->parameters(), torch::optim::AdamOptions(options.actor_lr));
  critic_optimizer_ =
      std::make_unique<torch::optim::Adam>(critic_->parameters(), torch::optim::AdamOptions(options.critic_lr));
}

torch::Tensor DdpgAgent::policy(const torch::Tensor& state) {
  torch::NoGradGuard no_grad;
  return actor_->forward(state.reshape({1, -1}).to(torch::kFloat32)).reshape({-1});
}

torch::Tensor DdpgAgent::act(const torch::Tensor& state, std::mt19937_64& rng, const WarmupDraw& warmup_draw,
                              bool explore) {
  const bool warm = warmingUp();
  ++acts_;
  if (warm) return warmup_draw(rng);
  auto action = policy(state);
  if (!explore) return action;
  action += std::max(epsilon_, 0.0) * noise_.sample(rng);
  epsilon_ -= 1.0 / options_.epsilon_decay_steps;
  return action;
}

bool DdpgAgent::update(std::mt19937_64& rng) {
  if (acts_ <= randomActs() || replay_.size() == 0) return false;
  for (std::int64_t k = 0; k < options_.updates_per_call; ++k) updateOnce(rng);
  return true;
}

void DdpgAgent::updateOnce(std::mt19937_64& rng) {
  TransitionBatch batch = options_.sample_without_replacement ? replay_.sampleDistinct(options_.batch_size, rng)
                                                              : replay_.sample(options_.batch_size, rng);

  torch::Tensor target;
  {
    torch::NoGradGuard no_grad;
    auto next_q = critic_target_->forward(batch.next_states, actor_target_->forward(batch.next_states));
    target = batch.rewards + options_.gamma * next_q;
  }
  critic_optimizer_->zero_grad();
  auto critic_loss = torch::mse_loss(critic_->forward(batch.states, batch.actions), target);
  critic_loss.backward();
  critic_optimizer_->step();

  actor_optimizer_->zero_grad();
  auto actor_loss = -critic_->forward(batch.states, actor_->forward(batch.states)).mean();
  actor_loss.backward();
  actor_optimizer_->step();

  softUpdate(*actor_, *actor_target_, options_.tau);
  softUpdate(*critic_, *critic_target_, options_.tau);
  ++updates_;
}

void DdpgAgent::save(std::ostream& out) const {
  StateTensors state;
  for (const auto& [prefix, network] : networksOf(*actor_, *actor_target_, *critic_, *critic_target_))
    saveParameters(*network, prefix, state);
  saveAdamState(*actor_optimizer_, "actor_optimizer/", state);
  saveAdamState(*critic_optimizer_, "critic_optimizer/", state);
  state["replay_states"] = replay_.states();
  state["replay_actions"] = replay_.actions();
  state["replay_rewards"] = replay_.rewards();
  state["replay_next_states"] = replay_.nextStates();
  state["replay_cursor"] = torch::tensor({replay_.size(), replay_.position()}, torch::kInt64);
  state["noise"] = noise_.state();
  state["epsilon"] = torch::tensor({epsilon_}, torch::kFloat64);
  state["counters"] = torch::tensor({acts_, updates_}, torch::kInt64);
  const std::string bytes = safetensors::encode(state);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void DdpgAgent::load(std::istream& in) {
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  try {
    const StateTensors state = safetensors::decode(bytes, "the saved DDPG agent").tensors;
    auto saved = [&state](const char* key) -> const torch::Tensor& {
      const auto it = state.find(key);
      if (it == state.end()) throw Error("the saved DDPG agent lacks '{}'", key);
      return it->second;
    };
    for (const auto& [prefix, network] : networksOf(*actor_, *actor_target_, *critic_, *critic_target_))
      loadParameters(*network, prefix, state);
    loadAdamState(*actor_optimizer_, "actor_optimizer/", state);
    loadAdamState(*critic_optimizer_, "critic_optimizer/", state);
    const torch::Tensor &cursor = saved("replay_cursor"), &epsilon = saved("epsilon"), &counters = saved("counters"),
                        &noise = saved("noise");
    if (noise.sizes() != noise_.state().sizes() || noise.scalar_type() != noise_.state().scalar_type() ||
        cursor.numel() != 2 || cursor.scalar_type() != torch::kInt64 || epsilon.numel() != 1 ||
        epsilon.scalar_type() != torch::kFloat64 || counters.numel() != 2 || counters.scalar_type() != torch::kInt64)
      throw Error("the saved DDPG agent has other dimensions");
    if (!torch::isfinite(noise).all().item<bool>() || !std::isfinite(epsilon.item<double>()) ||
        (counters < 0).any().item<bool>())
      throw Error("the saved DDPG agent holds NaN/Inf noise or epsilon, or negative counters");
    replay_.restore(
        {saved("replay_states"), saved("replay_actions"), saved("replay_rewards"), saved("replay_next_states")},
        cursor[0].item<std::int64_t>(), cursor[1].item<std::int64_t>());
    noise_.state().copy_(noise);
    epsilon_ = epsilon.item<double>();
    acts_ = counters[0].item<std::int64_t>();
    updates_ = counters[1].item<std::int64_t>();
  } catch (const Error& e) {
    throw Error("cannot restore a DDPG agent: {}", e.what());
  } catch (const c10::Error& e) {
    throw Error("cannot restore a DDPG agent: {}", e.what_without_backtrace());
  }
}

}  // namespace pagefl::rl
