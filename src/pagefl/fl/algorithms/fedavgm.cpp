#include "pagefl/fl/algorithms/fedavgm.h"

#include <torch/torch.h>

#include "pagefl/fl/aggregation.h"

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

}  // namespace pagefl
