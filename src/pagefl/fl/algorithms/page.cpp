#include "pagefl/fl/algorithms/page.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

#include "pagefl/core/error.h"
#include "pagefl/fl/aggregation.h"
#include "pagefl/fl/algorithms/page_actions.h"
#include "pagefl/fl/metric_keys.h"
#include "pagefl/fl/robust_aggregation.h"
#include "pagefl/fl/state_archive.h"
#include "pagefl/fl/streams.h"

namespace pagefl::page {
namespace {

// Keys of a client's PAGE / Dap-FL state in the ClientState store.
constexpr const char* kAgent = "rl_agent";
constexpr const char* kPendingState = "rl_pending_state";
constexpr const char* kPendingAction = "rl_pending_action";
constexpr const char* kPendingReward = "rl_pending_reward";
constexpr const char* kPendingRound = "rl_pending_round";
constexpr const char* kPendingGeneralExponent = "rl_pending_general_exponent";
constexpr const char* kLastTrainLoss = "dapfl_last_train_loss";
constexpr const char* kLastMargin = "dapfl_last_margin";

torch::Tensor scalar(double x) { return torch::tensor({x}, torch::kFloat32); }

// Round messages carry, for page.balance, every client's last upload's loss on the server test set
// and the round the server scored it.
constexpr const char* kUploadServerLoss = "page/upload_server_loss";
constexpr const char* kUploadScoredRound = "page/upload_scored_round";

// Round messages carry the client reward weight and the balance in force, so that a change an
// operator makes mid-run reaches deployed sites too.
constexpr const char* kClientRewardWeight = "page.client_reward_weight";
constexpr const char* kBalance = "page.balance";

double clientRewardWeightOf(const ServerMessage& message, const PageConfig& config) {
  auto it = message.settings.find(kClientRewardWeight);
  return it != message.settings.end() ? it->second : clientRewardWeight(config, message.round);
}

std::optional<double> balanceOf(const ServerMessage& message, const PageConfig& config) {
  auto it = message.settings.find(kBalance);
  return it != message.settings.end() ? std::optional(it->second) : balanceAt(config, message.round);
}

// The action kept in replay: the raw one in [-1, 1] by default, the post-processed one with
// faithful_action_storage (the published code's quirk).
torch::Tensor storedAction(const torch::Tensor& raw, const torch::Tensor& processed, const PageConfig& config) {
  return config.faithful_action_storage ? processed : raw.clamp(-1, 1);
}

// A reward's term for a loss: 1 / (loss + delta). Nullopt for a loss that is not a finite
// non-negative number (a site's report cannot buy itself an unbounded reward).
std::optional<double> lossTerm(double loss, const PageConfig& config) {
  if (!std::isfinite(loss) || loss < 0) return std::nullopt;
  return 1.0 / (loss + config.reward_delta);
}

// The server's score of `client`'s upload of `round`, from the round message; nullopt when the
// message has none for that upload (it was refused or came too late to be scored).
std::optional<double> uploadServerLoss(const ServerMessage& message, std::int64_t client, std::int64_t round) {
  const auto loss = message.tensors.find(kUploadServerLoss), scored = message.tensors.find(kUploadScoredRound);
  if (loss == message.tensors.end() || scored == message.tensors.end() || loss->second.numel() <= client ||
      scored->second.numel() <= client || scored->second[client].item<std::int64_t>() != round)
    return std::nullopt;
  return loss->second[client].item<double>();
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
  o.updates_per_call = c.agent_updates;
  o.warmup = c.warmup_rounds;
  o.epsilon_decay_steps = c.epsilon_decay_rounds;
  o.inclusive_warmup = c.faithful_warmup;
  o.sample_without_replacement = c.faithful_sampling;
  return o;
}

namespace {

// What an agent's round carries from before training to after it.
struct AgentStep {
  torch::Tensor observed, acted_on, action;
  LocalPlan plan;
  std::optional<double> stored_reward;  // of the transition stored before training, if any
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
  // Unlagged, the previous participation's transition is complete now that its s' is known (and,
  // with page.balance, the server's score of its upload); lagged, the previous observation is the
  // state this round acts on, and the transition is stored after training.
  const bool has_previous = state.has(kPendingState);
  step.acted_on = config_.faithful_lag && has_previous ? state.tensor(kPendingState) : step.observed;
  if (!config_.faithful_lag && has_previous) {
    step.stored_reward = state.tensor(kPendingReward).item<double>();
    const double exponent =
        state.has(kPendingGeneralExponent) ? state.tensor(kPendingGeneralExponent).item<double>() : 0.0;
    if (exponent > 0) {
      const auto loss = uploadServerLoss(message, context.client, state.tensor(kPendingRound).item<std::int64_t>());
      const std::optional<double> term = loss ? lossTerm(*loss, config_) : std::nullopt;
      // An upload the server never scored leaves the reward unknown: the transition is dropped.
      step.stored_reward = term ? std::optional(*step.stored_reward * std::pow(*term, exponent)) : std::nullopt;
    }
    if (step.stored_reward)
      agent.remember(state.tensor(kPendingState), state.tensor(kPendingAction), *step.stored_reward, step.observed);
  }

  step.noise = context.streams.engine(Purpose::AgentNoise, message.round, context.client);
  step.action =
      agent.act(step.acted_on, step.noise, [&](std::mt19937_64& r) { return clientWarmupAction(r, config_); });
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

  // The reward, or with page.balance the factor known now: c_w / (local loss + delta)^(1 - b). The
  // other, 1 / (its upload's server-test loss + delta)^b, comes with the server's score.
  double reward = 0;
  std::optional<double> general_exponent;
  if (design_ == ClientDesign::Page) {
    const std::optional<double> balance = balanceOf(message, config_);
    reward = clientRewardWeightOf(message, config_) /
             std::pow(trained.loss() + config_.reward_delta, 1 - balance.value_or(0));
    general_exponent = balance;
  } else {
    const double margin = trained.accuracy() - trained.loss();
    reward = state.has(kLastMargin) ? margin - state.tensor(kLastMargin).item<double>() : 0.0;
    state.tensor(kLastMargin) = scalar(margin);
    state.tensor(kLastTrainLoss) = scalar(stats.mean_loss);
  }
  const torch::Tensor stored = storedAction(
      step.action, torch::tensor({step.plan.lr, step.plan.unrounded_epochs}, torch::kFloat32), config_);
  rl::DdpgAgent& agent = clientAgent(context, config_, design_);
  if (config_.faithful_lag) {
    // The published replay: (s_{t-1}, a_t, r_t, s_t), each action with the state it was chosen from.
    agent.remember(step.acted_on, stored, reward, step.observed);
    step.stored_reward = reward;
  } else {
    state.tensor(kPendingAction) = stored;
    state.tensor(kPendingReward) = scalar(reward);
    state.tensor(kPendingRound) = torch::tensor({message.round}, torch::kInt64);
    if (general_exponent) state.tensor(kPendingGeneralExponent) = scalar(*general_exponent);
  }
  state.tensor(kPendingState) = step.observed;
  agent.update(step.noise);

  update.params = context.model.snapshot();
  update.num_samples = context.train.size();
  update.metrics[metric::kTrainLoss] = stats.mean_loss;
  update.metrics[metric::kTrainSamples] = static_cast<double>(stats.samples);
  update.metrics["rl_lr"] = step.plan.lr;
  update.metrics["rl_epochs"] = static_cast<double>(step.plan.epochs);
  // The reward known this round: this round's, or with balance the previous participation's.
  const std::optional<double> logged = general_exponent ? step.stored_reward : std::optional(reward);
  if (logged) update.metrics["rl_reward"] = *logged;
  return update;
}

void PageServer::initialise(const torch::Tensor& initial_params, std::int64_t num_clients) {
  ServerAlgorithm::initialise(initial_params, num_clients);
  agent_ = std::make_unique<rl::DdpgAgent>(agentOptions(config_, num_clients, num_clients),
                                           streams_.torchGenerator(Purpose::AgentInit, kNoRound, kServer));
  last_accuracy_ = torch::zeros({num_clients}, torch::kFloat32);
  last_loss_ = torch::zeros({num_clients}, torch::kFloat32);  // meaningful where last_scored_round_ >= 0
  last_scored_round_ = torch::full({num_clients}, -1, torch::kInt64);
  persistAcrossRounds("last_accuracy", last_accuracy_);
  persistAcrossRounds("last_loss", last_loss_);
  persistAcrossRounds("last_scored_round", last_scored_round_);
}

ServerMessage PageServer::configureRound(std::int64_t round) {
  ServerMessage message = ServerAlgorithm::configureRound(round);
  message.settings[kClientRewardWeight] = clientRewardWeight(config_, round);
  if (auto balance = balanceAt(config_, round)) {
    message.settings[kBalance] = *balance;
    message.tensors[kUploadServerLoss] = last_loss_.clone();
    message.tensors[kUploadScoredRound] = last_scored_round_.clone();
  }
  return message;
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
    state["pending/local_exponent"] = torch::tensor(pending_->local_exponent, torch::kFloat64);
  }
  if (previous_observation_.defined()) state["previous_observation"] = previous_observation_;
  return state;
}

void PageServer::loadState(const NamedTensors& state) {
  ServerAlgorithm::loadState(state);
  std::istringstream agent(tensorBytes(requireTensor(state, "agent", "the server checkpoint")));
  agent_->load(agent);
  pending_.reset();
  previous_observation_ = torch::Tensor();
  constexpr const char* what = "the server checkpoint";
  if (state.count("pending/state"))
    pending_ = Transition{state.at("pending/state"), requireTensor(state, "pending/action", what),
                          requireTensor(state, "pending/reward", what).item<double>(),
                          requireTensor(state, "pending/local_exponent", what).item<double>()};
  if (state.count("previous_observation")) previous_observation_ = state.at("previous_observation").clone();
}

namespace {

// The clients' mean local term 1 / (P->L loss + delta), trained this round from the global model
// they received; nullopt when no update reports a usable P->L loss.
std::optional<double> meanLocalTerm(const std::vector<const Metrics*>& updates, const PageConfig& config) {
  double total = 0;
  std::int64_t count = 0;
  for (const Metrics* metrics : updates) {
    const auto loss = metrics->find(streams::lossKey(streams::kPersonalOnLocal));
    if (loss == metrics->end()) continue;
    if (const std::optional<double> term = lossTerm(loss->second, config)) total += *term, ++count;
  }
  if (count == 0) return std::nullopt;
  return total / static_cast<double>(count);
}

}  // namespace

Metrics PageServer::aggregate(std::int64_t round, const std::vector<ClientUpdate>& updates,
                              ServerEvaluator& evaluator) {
  std::vector<torch::Tensor> params;
  std::vector<std::int64_t> clients;
  std::vector<const Metrics*> metrics;
  for (const ClientUpdate& update : updates) {
    metrics.push_back(&update.metrics);
    if (!update.params.defined()) continue;
    params.push_back(update.params);
    clients.push_back(update.client);
  }
  global_on_server_.reset();
  if (params.empty()) return {};
  // Clipped before they are scored, so that the agent weighs the models that are averaged.
  const std::int64_t clipped = clipToMedianNorm(params, global_, robust_);
  std::vector<std::int64_t> blocks;
  for (std::int64_t client : clients) blocks.push_back(aggregationBlockOf(client));
  const std::vector<double> weights =
      chooseWeights(round, clients, evaluator.evaluateEach(params, config_.server_score_samples, blocks), metrics);
  if (robustAtAggregation(robust_)) {
    global_ = robustCombine(params, weights, robust_);
  } else {
    BlockedSum sum;  // as a sharded simulation adds it up (finish())
    for (std::size_t i = 0; i < params.size(); ++i) sum.add(clients[i], params[i], weights[i]);
    global_ = sum.average();
  }
  return closeRound(evaluator, clipped);
}

std::vector<double> PageServer::weigh(std::int64_t round, const std::vector<UploadFacts>& uploads) {
  std::vector<std::int64_t> clients;
  std::vector<EvalResult> scores;
  std::vector<const Metrics*> metrics;
  for (const UploadFacts& upload : uploads) {
    metrics.push_back(&upload.metrics);
    if (!upload.has_params) continue;
    if (!upload.score) throw Error("round {}: client {}'s upload reached PAGE's server unscored", round, upload.client);
    clients.push_back(upload.client);
    scores.push_back(*upload.score);
  }
  global_on_server_.reset();
  if (clients.empty()) return std::vector<double>(uploads.size(), 0.0);
  const std::vector<double> chosen = chooseWeights(round, clients, scores, metrics);
  std::vector<double> weights;
  std::size_t next = 0;
  for (const UploadFacts& upload : uploads) weights.push_back(upload.has_params ? chosen[next++] : 0.0);
  return weights;
}

Metrics PageServer::finish(std::int64_t, BlockedSum& sum, ServerEvaluator& evaluator) {
  if (sum.empty()) return {};
  global_ = sum.average();
  return closeRound(evaluator, 0);
}

std::vector<double> PageServer::chooseWeights(std::int64_t round, const std::vector<std::int64_t>& clients,
                                              const std::vector<EvalResult>& uploaded,
                                              const std::vector<const Metrics*>& updates) {
  // State: every uploaded model's accuracy on the server test set; absent clients keep theirs.
  for (std::size_t i = 0; i < clients.size(); ++i) {
    last_accuracy_[clients[i]] = uploaded[i].accuracy();
    last_loss_[clients[i]] = uploaded[i].loss();
    last_scored_round_[clients[i]] = round;
  }
  OpenRound open{
      round, last_accuracy_.clone(), {}, {}, {}, streams_.engine(Purpose::AgentNoise, round, kServer), clients, {}};

  // Unlagged, the previous round's transition is complete now (with page.balance, by the clients'
  // term for the model it built, reported in this round's updates); lagged, the previous
  // observation is the state this round acts on.
  if (pending_) {
    const std::optional<double> local = meanLocalTerm(updates, config_);
    if (pending_->local_exponent == 0 || local) {
      open.stored_reward = pending_->reward * std::pow(local.value_or(1), pending_->local_exponent);
      agent_->remember(pending_->state, pending_->action, *open.stored_reward, open.observed);
    }
  }
  open.acting_on = config_.faithful_lag && previous_observation_.defined() ? previous_observation_ : open.observed;

  const std::int64_t n = last_accuracy_.numel();
  open.action = agent_->act(
      open.acting_on, open.rng, [n](std::mt19937_64& r) { return serverWarmupAction(n, r); }, config_.server_noise);
  open.weights = participantWeights(open.action, clients, config_.adapt_weights);
  open_ = std::move(open);
  return open_->weights;
}

Metrics PageServer::closeRound(ServerEvaluator& evaluator, std::int64_t clipped) {
  OpenRound open = std::move(*open_);
  open_.reset();
  global_on_server_ = evaluator.evaluate(global_);
  // s_w / (G->S loss + delta), or with page.balance s_w / (G->S loss + delta)^b now and the
  // clients' mean local term to the power 1 - b next round.
  const std::optional<double> balance = balanceAt(config_, open.round);
  const double reward = serverRewardWeight(config_, open.round) /
                        std::pow(global_on_server_->loss() + config_.reward_delta, balance.value_or(1));
  const double local_exponent = balance ? 1 - *balance : 0.0;

  auto processed = ((open.action + 1) / 2).clamp(0, 1);
  const torch::Tensor stored = storedAction(open.action, processed / processed.sum().clamp_min(1e-12), config_);
  pending_.reset();
  if (config_.faithful_lag) {
    // The published replay: (s_{t-1}, a_t, r_t, s_t).
    agent_->remember(open.acting_on, stored, reward, open.observed);
    previous_observation_ = open.observed;
    open.stored_reward = reward;
  } else {
    pending_ = Transition{open.observed, stored, reward, local_exponent};
  }
  agent_->update(open.rng);

  // The reward known this round: this round's, or with balance the previous round's.
  Metrics metrics;
  const std::optional<double> logged = balance ? open.stored_reward : std::optional(reward);
  if (logged) metrics["server_reward"] = *logged;
  if (clipped > 0) metrics["clipped_updates"] = static_cast<double>(clipped);
  for (std::size_t i = 0; i < open.clients.size(); ++i)
    metrics[fmt::format("weight/{}", open.clients[i])] = open.weights[i];
  return metrics;
}

Metrics UniformServer::aggregate(std::int64_t, const std::vector<ClientUpdate>& updates, ServerEvaluator&) {
  std::vector<torch::Tensor> params;
  for (const ClientUpdate& update : updates)
    if (update.params.defined()) params.push_back(update.params);
  Metrics metrics;
  if (!params.empty()) {
    const std::vector<double> uniform(params.size(), 1.0);
    global_ = robustAggregate(std::move(params), uniform, global_, robust_, metrics);
  }
  return metrics;
}

namespace {

const AlgorithmRegistration kPage(
    {"page", "PAGE (Chen et al., WWW 2024): RL agents at the sites and the server balance the two demands", {}},
    [](const Config& config) {
      return Algorithm{std::make_unique<PageServer>(
                           config.page, RngStreams(static_cast<std::uint64_t>(config.run.seed)), config.robust),
                       std::make_unique<AgentClient>(ClientDesign::Page, config.page, sgdOptions(config.train),
                                                     config.eval.batch_size)};
    });

const AlgorithmRegistration kDapFl(
    {"dapfl", "Dap-FL (PAGE's authors' earlier method): RL agents at the sites, uniform aggregation", {}},
    [](const Config& config) {
      return Algorithm{std::make_unique<UniformServer>(config.robust),
                       std::make_unique<AgentClient>(ClientDesign::DapFl, config.page, sgdOptions(config.train),
                                                     config.eval.batch_size)};
    });

}  // namespace

}  // namespace pagefl::page
