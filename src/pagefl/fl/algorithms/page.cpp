#include "pagefl/fl/algorithms/page.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <sstream>

#include "pagefl/core/error.h"
#include "pagefl/fl/aggregation.h"
#include "pagefl/fl/algorithms/page_actions.h"
#include "pagefl/fl/state_archive.h"
#include "pagefl/fl/streams.h"

namespace pagefl::page {
namespace {

// Keys of a client's PAGE / Dap-FL state in the ClientState store.
constexpr const char* kAgent = "rl_agent";
constexpr const char* kPendingState = "rl_pending_state";
constexpr const char* kPendingAction = "rl_pending_action";
constexpr const char* kPendingReward = "rl_pending_reward";
constexpr const char* kLastTrainLoss = "dapfl_last_train_loss";
constexpr const char* kLastMargin = "dapfl_last_margin";

torch::Tensor scalar(double x) { return torch::tensor({x}, torch::kFloat32); }

// The action kept in replay: the raw one in [-1, 1] by default, the post-processed one with
// faithful_action_storage (the published code's quirk).
torch::Tensor storedAction(const torch::Tensor& raw, const torch::Tensor& processed, const PageConfig& config) {
  return config.faithful_action_storage ? processed : raw.clamp(-1, 1);
}

}  // namespace

rl::DdpgOptions agentOptions(const PageConfig& c, std::int64_t state_dim, std::int64_t action_dim) {
  rl::DdpgOptions o;
  o.state_dim = state_dim;
  o.action_dim = action_dim;
  o.critic_lr = c.critic_lr;
  o.actor_lr = c.actor_lr;
  o.tau = c.tau;
  o.gamma = c.gamma;
  o.replay_capacity = c.replay_capacity;
  o.batch_size = c.rl_batch_size;
  o.warmup = c.warmup_rounds;
  o.epsilon_decay_steps = c.epsilon_decay_rounds;
  return o;
}

namespace {

// What an agent's round carries from before training to after it.
struct AgentStep {
  torch::Tensor observed, action;
  LocalPlan plan;
  std::mt19937_64 noise;  // the agent's generator: it acts before training and learns after
};

rl::DdpgAgent& clientAgent(ClientContext& context, const PageConfig& config, ClientDesign design) {
  const std::int64_t state_dim = design == ClientDesign::Page ? 1 : 2;
  return context.state.object<rl::DdpgAgent>(kAgent, [&] {
    return std::make_unique<rl::DdpgAgent>(agentOptions(config, state_dim, 2),
                                           context.streams.torchGenerator(Purpose::AgentInit, kNoRound, context.client));
  });
}

}  // namespace

LocalSgdJob AgentClient::prepare(const ServerMessage& message, ClientContext& context) const {
  if (context.test.size() == 0)
    throw Error("client {} has no local test split, which its agent's state and reward need: set "
                "partition.train_fraction below 1",
                context.client);
  ClientState& state = context.state;
  rl::DdpgAgent& agent = clientAgent(context, config_, design_);

  LocalSgdJob job;
  job.update.client = context.client;
  job.update.round = message.round;
  FlatModel& model = context.model;
  model.load(message.global);
  const EvalResult received = evaluate(model, context.test, eval_batch_size_);
  streams::record(job.update.metrics, streams::kGlobalOnLocal, received);

  AgentStep step;
  step.observed = design_ == ClientDesign::Page
                      ? scalar(received.accuracy())
                      : torch::tensor({received.accuracy(), state.has(kLastTrainLoss)
                                                                ? state.tensor(kLastTrainLoss).item<double>()
                                                                : 0.0},
                                      torch::kFloat32);
  const bool has_pending = state.has(kPendingState);
  if (has_pending)
    agent.remember(state.tensor(kPendingState), state.tensor(kPendingAction), state.tensor(kPendingReward).item<double>(),
                   step.observed);

  step.noise = context.streams.engine(Purpose::AgentNoise, message.round, context.client);
  const torch::Tensor& acting_on = config_.faithful_lag && has_pending ? state.tensor(kPendingState) : step.observed;
  step.action =
      agent.act(acting_on, step.noise, [&](std::mt19937_64& r) { return clientWarmupAction(r, config_); });
  step.plan = mapClientAction(step.action, config_);

  job.sgd = sgd_;
  job.sgd.lr = step.plan.lr;
  job.sgd.epochs = step.plan.epochs;
  job.shuffle = context.streams.engine(Purpose::Shuffle, message.round, context.client);
  job.carry = std::move(step);
  return job;
}

ClientUpdate AgentClient::finish(const ServerMessage& message, ClientContext& context, LocalSgdJob& job,
                                 const TrainStats& stats) const {
  ClientState& state = context.state;
  AgentStep& step = std::any_cast<AgentStep&>(job.carry);
  ClientUpdate update = std::move(job.update);
  const EvalResult trained = evaluate(context.model, context.test, eval_batch_size_);
  streams::record(update.metrics, streams::kPersonalOnLocal, trained);

  double reward = 0;
  if (design_ == ClientDesign::Page) {
    reward = clientRewardWeight(config_, message.round) / (trained.loss() + config_.reward_delta);
  } else {
    const double margin = trained.accuracy() - trained.loss();
    reward = state.has(kLastMargin) ? margin - state.tensor(kLastMargin).item<double>() : 0.0;
    state.tensor(kLastMargin) = scalar(margin);
    state.tensor(kLastTrainLoss) = scalar(stats.mean_loss);
  }
  state.tensor(kPendingState) = step.observed;
  state.tensor(kPendingAction) = storedAction(
      step.action, torch::tensor({step.plan.lr, static_cast<double>(step.plan.epochs)}, torch::kFloat32), config_);
  state.tensor(kPendingReward) = scalar(reward);
  clientAgent(context, config_, design_).update(step.noise);

  update.params = context.model.snapshot();
  update.num_samples = context.train.size();
  update.metrics["train_loss"] = stats.mean_loss;
  update.metrics["train_samples"] = static_cast<double>(stats.samples);
  update.metrics["rl_lr"] = step.plan.lr;
  update.metrics["rl_epochs"] = static_cast<double>(step.plan.epochs);
  update.metrics["rl_reward"] = reward;
  return update;
}

void PageServer::initialise(const torch::Tensor& initial_params, std::int64_t num_clients) {
  ServerAlgorithm::initialise(initial_params, num_clients);
  agent_ = std::make_unique<rl::DdpgAgent>(agentOptions(config_, num_clients, num_clients),
                                           streams_.torchGenerator(Purpose::AgentInit, kNoRound, kServer));
  last_accuracy_ = torch::zeros({num_clients}, torch::kFloat32);
  persistAcrossRounds("last_accuracy", last_accuracy_);
}

NamedTensors PageServer::saveState() const {
  NamedTensors state = ServerAlgorithm::saveState();
  std::ostringstream agent;
  agent_->save(agent);
  state["agent"] = bytesTensor(agent.str());
  if (pending_) {
    state["pending/state"] = pending_->state;
    state["pending/action"] = pending_->action;
    state["pending/reward"] = torch::tensor(pending_->reward, torch::kFloat64);
  }
  return state;
}

void PageServer::loadState(const NamedTensors& state) {
  ServerAlgorithm::loadState(state);
  std::istringstream agent(tensorBytes(requireTensor(state, "agent", "the server checkpoint")));
  agent_->load(agent);
  pending_.reset();
  if (state.count("pending/state"))
    pending_ = Transition{state.at("pending/state"), requireTensor(state, "pending/action", "the server checkpoint"),
                          requireTensor(state, "pending/reward", "the server checkpoint").item<double>()};
}

Metrics PageServer::aggregate(std::int64_t round, const std::vector<ClientUpdate>& updates,
                              ServerEvaluator& evaluator) {
  std::vector<torch::Tensor> params;
  std::vector<std::int64_t> clients;
  for (const ClientUpdate& update : updates) {
    if (!update.params.defined()) continue;
    params.push_back(update.params);
    clients.push_back(update.client);
  }
  global_on_server_.reset();
  if (params.empty()) return {};

  // State: every uploaded model's accuracy on the server test set; absent clients keep theirs.
  const std::vector<EvalResult> uploaded = evaluator.evaluateEach(params, config_.server_score_samples);
  for (std::size_t i = 0; i < clients.size(); ++i) last_accuracy_[clients[i]] = uploaded[i].accuracy();
  torch::Tensor observed = last_accuracy_.clone();
  if (pending_) agent_->remember(pending_->state, pending_->action, pending_->reward, observed);

  auto rng = streams_.engine(Purpose::AgentNoise, round, kServer);
  const torch::Tensor& acting_on = config_.faithful_lag && pending_ ? pending_->state : observed;
  const std::int64_t n = last_accuracy_.numel();
  torch::Tensor action = agent_->act(
      acting_on, rng, [n](std::mt19937_64& r) { return serverWarmupAction(n, r); }, config_.server_noise);
  const std::vector<double> weights = participantWeights(action, clients, config_.adapt_weights);

  global_ = weightedAverage(params, weights);
  global_on_server_ = evaluator.evaluate(global_);
  const double reward = serverRewardWeight(config_, round) / (global_on_server_->loss() + config_.reward_delta);

  auto processed = ((action + 1) / 2).clamp(0, 1);
  pending_ = Transition{observed, storedAction(action, processed / processed.sum().clamp_min(1e-12), config_), reward};
  agent_->update(rng);

  Metrics metrics{{"server_reward", reward}};
  for (std::size_t i = 0; i < clients.size(); ++i) metrics[fmt::format("weight/{}", clients[i])] = weights[i];
  return metrics;
}

Metrics UniformServer::aggregate(std::int64_t, const std::vector<ClientUpdate>& updates, ServerEvaluator&) {
  std::vector<torch::Tensor> params;
  for (const ClientUpdate& update : updates)
    if (update.params.defined()) params.push_back(update.params);
  if (!params.empty()) global_ = weightedAverage(params, std::vector<double>(params.size(), 1.0));
  return {};
}

}  // namespace pagefl::page
