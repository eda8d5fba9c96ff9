#include "pagefl/fl/algorithms/page_actions.h"

#include <torch/torch.h>

#include <cmath>

namespace pagefl::page {

LocalPlan mapClientAction(const torch::Tensor& x, const PageConfig& c) {
  const double x0 = x[0].item<double>(), x1 = x[1].item<double>();
  LocalPlan plan;
  if (c.action_map == "affine") {
    const double u0 = std::clamp((x0 + 1) / 2, 0.0, 1.0), u1 = std::clamp((x1 + 1) / 2, 0.0, 1.0);
    plan.lr = c.lr_min + u0 * (c.lr_max - c.lr_min);
    plan.unrounded_epochs = 1 + u1 * static_cast<double>(c.epoch_max - 1);
    plan.epochs = static_cast<std::int64_t>(std::llround(plan.unrounded_epochs));
  } else {
    const double u0 = std::clamp((x0 + 1) / 2, c.lr_min, c.lr_max), u1 = std::clamp((x1 + 1) / 2, c.lr_min, c.lr_max);
    plan.lr = u0;
    const double scale = std::floor(static_cast<double>(c.epoch_max) / c.lr_max);
    plan.unrounded_epochs = u1 * scale;
    plan.epochs = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(plan.unrounded_epochs)));
  }
  if (!c.adapt_lr) plan.lr = c.lr_max;
  if (!c.adapt_epochs) plan.epochs = c.epoch_max, plan.unrounded_epochs = static_cast<double>(c.epoch_max);
  return plan;
}

torch::Tensor clientWarmupAction(std::mt19937_64& rng, const PageConfig& c) {
  const bool affine = c.action_map == "affine";
  std::uniform_real_distribution<double> draw(affine ? -1.0 : c.lr_min, affine ? 1.0 : c.lr_max);
  const double a = draw(rng), b = draw(rng);
  if (affine) return torch::tensor({a, b}, torch::kFloat32);
  return torch::tensor({2 * a - 1, 2 * b - 1}, torch::kFloat32);
}

std::vector<double> participantWeights(const torch::Tensor& x, const std::vector<std::int64_t>& participants,
                                       bool adapt) {
  std::vector<double> weights(participants.size(), 1.0 / static_cast<double>(participants.size()));
  if (!adapt) return weights;
  auto p = ((x.to(torch::kFloat64) + 1) / 2).clamp(0, 1);
  double total = 0;
  for (std::size_t i = 0; i < participants.size(); ++i) total += (weights[i] = p[participants[i]].item<double>());
  if (total <= 0) return std::vector<double>(participants.size(), 1.0 / static_cast<double>(participants.size()));
  for (double& w : weights) w /= total;
  return weights;
}

torch::Tensor serverWarmupAction(std::int64_t num_clients, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> draw(0.0, 1.0);
  auto x = torch::empty({num_clients}, torch::kFloat32);
  for (std::int64_t i = 0; i < num_clients; ++i) x[i] = 2 * draw(rng) - 1;
  return x;
}

}  // namespace pagefl::page
