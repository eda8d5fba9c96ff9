#include "pagefl/fl/algorithms/scaffold.h"

#include <torch/torch.h>

#include "pagefl/core/error.h"
#include "pagefl/fl/aggregation.h"
#include "pagefl/fl/algorithms/client_round.h"
#include "pagefl/fl/algorithms/fedavgm.h"

namespace pagefl {
namespace {
constexpr const char* kControl = "control";
constexpr const char* kControlDelta = "control_delta";
}  // namespace

void ScaffoldServer::initialise(const torch::Tensor& initial_params, std::int64_t num_clients) {
  ServerAlgorithm::initialise(initial_params, num_clients);
  control_ = torch::zeros_like(initial_params);
  persistAcrossRounds("control", control_);
  num_clients_ = num_clients;
}

ServerMessage ScaffoldServer::configureRound(std::int64_t round) {
  ServerMessage message = ServerAlgorithm::configureRound(round);
  message.tensors[kControl] = control_;
  return message;
}

Metrics ScaffoldServer::aggregate(std::int64_t round, const std::vector<ClientUpdate>& updates, ServerEvaluator&) {
  auto average = sampleWeightedAverage(updates);
  if (!average) return {};
  auto control_change = torch::zeros_like(control_);
  for (const ClientUpdate& update : updates) {
    auto delta = update.tensors.find(kControlDelta);
    if (delta == update.tensors.end() || delta->second.sizes() != control_.sizes())
      throw Error("round {}: client {}'s SCAFFOLD update lacks a control_delta of {} values", round, update.client,
                  control_.numel());
    control_change.add_(delta->second);
  }
  global_.add_(*average - global_, server_lr_);
  control_.add_(control_change, 1.0 / static_cast<double>(num_clients_));
  return {};
}

ClientUpdate ScaffoldClient::run(const ServerMessage& message, ClientContext& context) const {
  ClientUpdate update = openUpdate(message, context);
  loadGlobalAndScore(update, message, context, eval_batch_size_);
  const torch::Tensor& server_control = message.tensors.at(kControl);
  torch::Tensor& control = context.state.tensor(kControl);
  if (!control.defined()) control = torch::zeros_like(message.global);
  const torch::Tensor correction = server_control - control;
  auto rng = context.streams.engine(Purpose::Shuffle, message.round, context.client);
  TrainStats stats = trainSgd(context.model, context.train, sgd_, rng,
                              [&correction](FlatModel& m) { m.grads().add_(correction); });
  recordTraining(update, stats, context);
  update.params = context.model.snapshot();
  if (stats.steps > 0) {
    // Option II: c_i+ = c_i - c + (x - y_i) / (K eta).
    auto updated = control - server_control + (message.global - update.params) / (stats.steps * sgd_.lr);
    update.tensors[kControlDelta] = updated - control;
    control = updated;
  } else {
    update.tensors[kControlDelta] = torch::zeros_like(control);
  }
  scorePersonal(update, message, context, update.params, eval_batch_size_);
  return update;
}

namespace {

const AlgorithmRegistration kScaffold(
    {"scaffold",
     "SCAFFOLD (Karimireddy et al., ICML 2020): control variates correct the clients' drift",
     {{"algorithm.server_lr", 0.3, 3, true, false}}},
    [](const Config& config) {
      refuseRobustRules(config);
      return Algorithm{std::make_unique<ScaffoldServer>(config.algorithm_settings.get<ServerStepSettings>().lr),
                       std::make_unique<ScaffoldClient>(sgdOptions(config.train), config.eval.batch_size)};
    });

}  // namespace

}  // namespace pagefl
