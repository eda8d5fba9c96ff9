#include "pagefl/fl/aggregation.h"

#include <torch/torch.h>

#include "pagefl/core/error.h"

namespace pagefl {

torch::Tensor weightedAverage(const std::vector<torch::Tensor>& params, const std::vector<double>& weights) {
  if (params.empty()) throw Error("cannot aggregate zero models");
  if (params.size() != weights.size())
    throw Error("cannot aggregate {} models with {} weights", params.size(), weights.size());
  double total = 0;
  for (double w : weights) {
    if (!(w >= 0)) throw Error("aggregation weight {} is negative or not a number", w);
    total += w;
  }
  if (total <= 0) throw Error("aggregation weights sum to zero");

  auto sum = torch::zeros({params.front().numel()}, torch::kFloat64);
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (params[i].numel() != sum.numel())
      throw Error("cannot aggregate models of {} and {} parameters", sum.numel(), params[i].numel());
    sum.add_(params[i].to(torch::kFloat64), weights[i] / total);
  }
  return sum.to(torch::kFloat32);
}

std::optional<torch::Tensor> sampleWeightedAverage(const std::vector<ClientUpdate>& updates) {
  std::vector<torch::Tensor> params;
  std::vector<double> weights;
  for (const ClientUpdate& update : updates) {
    if (!update.params.defined()) continue;
    params.push_back(update.params);
    weights.push_back(static_cast<double>(update.num_samples));
  }
  if (params.empty()) return std::nullopt;
  return weightedAverage(params, weights);
}

std::optional<std::string> findUpdateDefect(const ClientUpdate& update, std::int64_t expected_size) {
  if (!update.params.defined()) return std::nullopt;
  if (update.params.dim() != 1 || update.params.numel() != expected_size)
    return fmt::format("its parameters have shape [{}] but the model needs [{}]",
                       fmt::join(update.params.sizes(), ", "), expected_size);
  if (!torch::isfinite(update.params).all().item<bool>())
    return std::string("its parameters contain NaN or Inf (local training diverged: lower train.lr or set "
                       "train.clip_norm)");
  return std::nullopt;
}

}  // namespace pagefl
