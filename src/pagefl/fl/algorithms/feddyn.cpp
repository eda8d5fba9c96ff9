#include "pagefl/fl/algorithms/feddyn.h"

#include <torch/torch.h>

#include "pagefl/fl/algorithms/client_round.h"

namespace pagefl {

void FedDynServer::initialise(const torch::Tensor& initial_params, std::int64_t num_clients) {
  ServerAlgorithm::initialise(initial_params, num_clients);
  h_ = torch::zeros_like(initial_params);
  persistAcrossRounds("h", h_);
  num_clients_ = num_clients;
}

Metrics FedDynServer::aggregate(std::int64_t, const std::vector<ClientUpdate>& updates, ServerEvaluator&) {
  auto sum = torch::zeros_like(global_, torch::kFloat64);
  std::int64_t count = 0;
  for (const ClientUpdate& update : updates)
    if (update.params.defined()) sum.add_(update.params.to(torch::kFloat64)), ++count;
  if (count == 0) return {};
  auto mean = (sum / static_cast<double>(count)).to(torch::kFloat32);
  h_.add_(mean - global_, -alpha_ * static_cast<double>(count) / static_cast<double>(num_clients_));
  global_ = mean - h_ / alpha_;
  return {};
}

ClientUpdate FedDynClient::run(const ServerMessage& message, ClientContext& context) const {
  ClientUpdate update = openUpdate(message, context);
  loadGlobalAndScore(update, message, context, eval_batch_size_);
  torch::Tensor& linear = context.state.tensor("linear_term");
  if (!linear.defined()) linear = torch::zeros_like(message.global);
  const torch::Tensor& theta = message.global;
  const double alpha = alpha_;
  // Gradient of -<g_k, t> + (alpha/2)||t - theta||^2:  -g_k + alpha (t - theta).
  auto regulariser = [&](FlatModel& m) {
    m.grads().sub_(linear).add_(m.params(), alpha).add_(theta, -alpha);
  };
  auto rng = context.streams.engine(Purpose::Shuffle, message.round, context.client);
  recordTraining(update, trainSgd(context.model, context.train, sgd_, rng, regulariser), context);
  update.params = context.model.snapshot();
  linear.add_(update.params - theta, -alpha);
  scorePersonal(update, message, context, update.params, eval_batch_size_);
  return update;
}

namespace {

const SettingsRegistration<FedDynSettings> kFedDynSettings("feddyn");

const AlgorithmRegistration kFedDyn(
    {"feddyn",
     "FedDyn (Acar et al., ICLR 2021): dynamic regularisation of each client's objective",
     {{"algorithm.feddyn_alpha", 1e-3, 1, true, false}}},
    [](const Config& config) {
      refuseRobustRules(config);
      const double alpha = config.algorithm_settings.get<FedDynSettings>().alpha;
      return Algorithm{std::make_unique<FedDynServer>(alpha),
                       std::make_unique<FedDynClient>(sgdOptions(config.train), alpha, config.eval.batch_size)};
    });

}  // namespace

}  // namespace pagefl
