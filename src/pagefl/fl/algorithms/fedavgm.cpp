#include "pagefl/fl/algorithms/fedavgm.h"

#include <torch/torch.h>

#include "pagefl/fl/aggregation.h"
#include "pagefl/fl/algorithms/fedavg.h"

namespace pagefl {

void FedAvgMServer::initialise(const torch::Tensor& initial_params, std::int64_t num_clients) {
  ServerAlgorithm::initialise(initial_params, num_clients);
  velocity_ = torch::zeros_like(initial_params);
  persistAcrossRounds("velocity", velocity_);
}

Metrics FedAvgMServer::aggregate(std::int64_t, const std::vector<ClientUpdate>& updates, ServerEvaluator&) {
  auto average = sampleWeightedAverage(updates);
  if (!average) return {};
  velocity_.mul_(momentum_).add_(global_ - *average);
  global_.add_(velocity_, -server_lr_);
  return {};
}

namespace {

const SettingsRegistration<ServerStepSettings> kServerStepSettings("server_step");
const SettingsRegistration<FedAvgMSettings> kFedAvgMSettings("fedavgm");

const AlgorithmRegistration kFedAvgM({"fedavgm",
                                      "FedAvgM (Hsu et al., 2019): FedAvg with server momentum",
                                      {{"algorithm.server_momentum", 0, 0.95, false, false}}},
                                     [](const Config& config) {
                                       refuseRobustRules(config);
                                       return Algorithm{std::make_unique<FedAvgMServer>(
                                                            config.algorithm_settings.get<ServerStepSettings>().lr,
                                                            config.algorithm_settings.get<FedAvgMSettings>().momentum),
                                                        std::make_unique<FedAvgClient>(sgdOptions(config.train),
                                                                                       config.eval.batch_size, 0.0)};
                                     });

}  // namespace

}  // namespace pagefl
