// Aggregation of flat parameter vectors.
#pragma once

#include <torch/types.h>

#include <optional>
#include <string>
#include <vector>

#include "pagefl/fl/messages.h"

namespace pagefl {

// A running sum_i w_i p_i in float64, added to in a fixed order: FedAvg's aggregation one update
// at a time, so that a server need not hold every upload at once.
class WeightedSum {
 public:
  // Throws pagefl::Error on a negative or NaN weight or a size different from earlier ones.
  void add(const torch::Tensor& params, double weight);
  // FedAvg's term: an upload's parameters weighted by its sample count; uploads without
  // parameters are skipped. Returns whether it was added.
  bool addUpload(const ClientUpdate& update);
  bool empty() const { return !sum_.defined(); }
  // sum_i w_i p_i / sum_i w_i in float32; throws when the weights sum to zero.
  torch::Tensor average() const;
  // Adds another running sum's terms at once (a block of clients summed apart).
  void merge(const WeightedSum& other);

  // The float64 sum and the total weight, for a sharded simulation to move a partial sum between
  // processes (sim/sharding.h) and rebuild it exactly.
  const torch::Tensor& sum() const { return sum_; }
  double totalWeight() const { return total_; }
  static WeightedSum fromParts(torch::Tensor sum, double total_weight);

 private:
  torch::Tensor sum_;
  double total_ = 0.0;
};

// Clients per aggregation block: a weighted sum is added up block by block (client ids
// [16b, 16b + 16) form block b) and the block sums are then added in block order. The order of
// additions is therefore fixed by the client ids alone, so a simulation sharded over processes,
// each summing the blocks it owns, gives the single process's result to the last bit.
inline constexpr std::int64_t kAggregationBlock = 16;
inline std::int64_t aggregationBlockOf(std::int64_t client) { return client / kAggregationBlock; }

// sum_i w_i p_i in float64, summed per aggregation block, clients in ascending id order.
class BlockedSum {
 public:
  // Skips undefined parameters (uploads without a model). Throws pagefl::Error when clients come
  // out of order.
  void add(std::int64_t client, const torch::Tensor& params, double weight);
  // The sum of `block` made elsewhere, in ascending block order with add().
  void addBlock(std::int64_t block, const WeightedSum& partial);
  bool empty() const { return total_.empty() && open_.empty(); }
  // sum_i w_i p_i / sum_i w_i in float32; throws when empty or the weights sum to zero.
  torch::Tensor average();

 private:
  void enter(std::int64_t block);

  std::int64_t open_block_ = -1;
  WeightedSum open_, total_;
};

// sum_i w_i p_i / sum_i w_i, accumulated in float64 in the given order so that the result is
// exact to float32 rounding and independent of thread count. Throws pagefl::Error when the
// inputs are empty, differ in size, or the weights are negative or sum to zero.
torch::Tensor weightedAverage(const std::vector<torch::Tensor>& params, const std::vector<double>& weights);

// The uploads' parameters averaged with their sample counts as weights (FedAvg's rule), or
// nothing when no update carries parameters.
std::optional<torch::Tensor> sampleWeightedAverage(const std::vector<ClientUpdate>& updates);

// Why an update must not be aggregated, or nothing when it is sound: no parameters when
// `params_required` (every algorithm but local-only training uploads a model), parameters or
// tensors of the wrong size, NaN/Inf values.
std::optional<std::string> findUpdateDefect(const ClientUpdate& update, std::int64_t expected_size,
                                            bool params_required);

}  // namespace pagefl
