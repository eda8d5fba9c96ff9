// Aggregation of flat parameter vectors.
#pragma once

#include <torch/types.h>

#include <optional>
#include <string>
#include <vector>

#include "pagefl/fl/messages.h"

namespace pagefl {

// sum_i w_i p_i / sum_i w_i, accumulated in float64 in the given order so that the result is
// exact to float32 rounding and independent of thread count. Throws pagefl::Error when the
// inputs are empty, differ in size, or the weights are negative or sum to zero.
torch::Tensor weightedAverage(const std::vector<torch::Tensor>& params, const std::vector<double>& weights);

// The uploads' parameters averaged with their sample counts as weights (FedAvg's rule), or
// nothing when no update carries parameters.
std::optional<torch::Tensor> sampleWeightedAverage(const std::vector<ClientUpdate>& updates);

// Why an update must not be aggregated, or nothing when it is sound: parameters of the wrong
// size or with NaN/Inf values.
std::optional<std::string> findUpdateDefect(const ClientUpdate& update, std::int64_t expected_size);

}  // namespace pagefl
