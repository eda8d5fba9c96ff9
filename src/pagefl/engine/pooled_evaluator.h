// Server-test evaluation spread over the worker pool, shared by the simulator and the deployed
// server. The test set is cut into fixed chunks of whole evaluation batches, summed in chunk
// order, so results are identical for any number of workers.
#pragma once

#include <map>

#include "pagefl/core/rng.h"
#include "pagefl/fl/algorithm.h"
#include "pagefl/engine/worker_pool.h"

namespace pagefl {

class PooledServerEvaluator final : public ServerEvaluator {
 public:
  // `stack_uploads`: score the models of evaluateEach in fixed stacks (nn/stacked_scoring.h),
  // for fully connected models.
  // `streams` draws the subsets of evaluateEach.
  PooledServerEvaluator(WorkerPool& pool, const Dataset& test, std::int64_t batch_size, const RngStreams& streams,
                        bool stack_uploads = false)
      : pool_(pool), test_(test), batch_size_(batch_size), streams_(streams), stack_uploads_(stack_uploads) {}

  EvalResult evaluate(const torch::Tensor& params) override;
  std::vector<EvalResult> evaluateEach(const std::vector<torch::Tensor>& params, std::int64_t samples,
                                       const std::vector<std::int64_t>& stack_keys) override;

 private:
  WorkerPool& pool_;
  const Dataset& test_;
  std::int64_t batch_size_;
  RngStreams streams_;
  bool stack_uploads_;
  std::map<std::int64_t, Dataset> subsets_;  // by size, drawn once
};

}  // namespace pagefl
