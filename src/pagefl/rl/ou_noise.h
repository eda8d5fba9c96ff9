// Ornstein-Uhlenbeck exploration noise: x += theta (mu - x) dt + sigma sqrt(dt) N(0, 1).
#pragma once

#include <torch/types.h>

#include <random>

namespace pagefl::rl {

struct OuOptions {
  double theta = 0.15;
  double mu = 0.0;
  double sigma = 0.2;
  double dt = 0.01;
};

class OuNoise {
 public:
  OuNoise(std::int64_t size, OuOptions options);
  torch::Tensor sample(std::mt19937_64& rng);
  torch::Tensor& state() { return x_; }  // for checkpoints
  const torch::Tensor& state() const { return x_; }

 private:
  OuOptions options_;
  torch::Tensor x_;  // float64, starts at mu
};

}  // namespace pagefl::rl
