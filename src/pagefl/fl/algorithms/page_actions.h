// How PAGE's agents' raw actions become learning rates, epochs and aggregation weights
// (SPEC-PAGE.md, "Action mapping").
#pragma once

#include <torch/types.h>

#include <random>
#include <vector>

#include "pagefl/core/config.h"

namespace pagefl::page {

struct LocalPlan {
  double lr = 0;
  std::int64_t epochs = 1;
  // The epochs before rounding to a whole number (u1 * floor(epoch_max / lr_max) for the published
  // map), which the published code keeps in replay.
  double unrounded_epochs = 1;
};

// published: u = clip((x+1)/2, lr_min, lr_max) for both components; lr = u0,
//            epochs = max(1, floor(u1 * floor(epoch_max / lr_max))).
// affine:    u = clip((x+1)/2, 0, 1); lr = lr_min + u0 (lr_max - lr_min),
//            epochs = round(1 + u1 (epoch_max - 1)).
// adapt_lr = false fixes lr = lr_max; adapt_epochs = false fixes epochs = epoch_max.
LocalPlan mapClientAction(const torch::Tensor& x, const PageConfig& config);

// A warm-up action. published: u ~ U[lr_min, lr_max]^2, returned as x = 2u - 1 so that the map
// gives back u; affine: x ~ U[-1, 1]^2, the whole action space.
torch::Tensor clientWarmupAction(std::mt19937_64& rng, const PageConfig& config);

// The server's weights for the round's participants: p = clip((x+1)/2, 0, 1) restricted to
// `participants` and renormalised over them (uniform when they sum to zero, or when adapt is false).
std::vector<double> participantWeights(const torch::Tensor& x, const std::vector<std::int64_t>& participants,
                                       bool adapt);

// A warm-up server action: p ~ U[0, 1]^N, returned as x = 2p - 1.
torch::Tensor serverWarmupAction(std::int64_t num_clients, std::mt19937_64& rng);

}  // namespace pagefl::page
