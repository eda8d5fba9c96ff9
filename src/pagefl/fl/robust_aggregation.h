// Defences of the server against poisoned updates from sites it admitted (a scaled, sign-flipped
// or random model sent with a valid certificate): pagefl's, configured in [robust].
//
// - Norm bounding. robust.max_update_norm refuses an update whose distance from the global model
//   it was trained from, ||w_i - w||, exceeds the bound (the engine does this on arrival, with the
//   reason recorded and, deployed, audited). robust.norm_factor clips each update's distance to
//   that many times the round's median distance (Sun et al., "Can you really backdoor federated
//   learning?", 2019), at aggregation.
// - The rule that combines the updates. "mean" is the algorithm's own weighted mean. "median" is
//   the coordinate-wise median (Yin et al., ICML 2018), "trimmed-mean" the coordinate-wise mean
//   after cutting robust.trim_fraction of the values from each end (same paper); both ignore the
//   weights, since a poisoned site could otherwise buy its way back with a weight. "krum" is
//   multi-Krum (Blanchard et al., NeurIPS 2017): each update is scored by the summed squared
//   distances to its n - f - 2 nearest others (f = robust.byzantine), and the robust.krum_select
//   best-scored (0: n - f) are averaged with their weights renormalised.
// Under PAGE the weights are the server agent's: median and trimmed-mean set them aside for the
// model (the agent still learns from the reward of the model built), Krum keeps them among the
// updates it selects.
#pragma once

#include <torch/types.h>

#include <optional>
#include <string>
#include <vector>

#include "pagefl/core/config.h"

namespace pagefl {

// Whether `robust` changes anything at aggregation (a rule other than the mean, or clipping).
bool robustAtAggregation(const RobustConfig& robust);

// Why an update at `distance` from the global model must be refused under robust.max_update_norm,
// or nothing.
std::optional<std::string> normBoundDefect(double distance, const RobustConfig& robust);

// Clips each of `params` to robust.norm_factor times the median distance from `global`. Returns
// how many were clipped.
std::int64_t clipToMedianNorm(std::vector<torch::Tensor>& params, const torch::Tensor& global,
                              const RobustConfig& robust);

// The models combined by robust.rule (with `weights` where the rule uses them), in float32.
// Throws pagefl::Error when the rule cannot run on this many models (Krum needs n > 2f + 2).
torch::Tensor robustCombine(const std::vector<torch::Tensor>& params, const std::vector<double>& weights,
                            const RobustConfig& robust);

// Clipping, then the rule: what a server half calls in place of its weighted mean. Returns the
// new global model and adds "clipped_updates" to `metrics` when any were clipped.
torch::Tensor robustAggregate(std::vector<torch::Tensor> params, const std::vector<double>& weights,
                              const torch::Tensor& global, const RobustConfig& robust,
                              std::map<std::string, double>& metrics);

}  // namespace pagefl
