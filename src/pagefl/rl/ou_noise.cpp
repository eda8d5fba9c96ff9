#include "pagefl/rl/ou_noise.h"

#include <torch/torch.h>

#include <cmath>

namespace pagefl::rl {

OuNoise::OuNoise(std::int64_t size, OuOptions options)
    : options_(options), x_(torch::full({size}, options.mu, torch::kFloat64)) {}

torch::Tensor OuNoise::sample(std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, 1.0);
  auto* x = x_.data_ptr<double>();
  for (std::int64_t i = 0; i < x_.numel(); ++i)
    x[i] += options_.theta * (options_.mu - x[i]) * options_.dt + options_.sigma * std::sqrt(options_.dt) * normal(rng);
  return x_.to(torch::kFloat32);
}

}  // namespace pagefl::rl
