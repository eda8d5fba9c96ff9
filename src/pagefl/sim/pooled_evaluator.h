// Server-test evaluation spread over the worker pool, shared by the simulator and the deployed
// server. The test set is cut into fixed chunks of whole evaluation batches, summed in chunk
// order, so results are identical for any number of workers.
#pragma once

#include "pagefl/fl/algorithm.h"
#include "pagefl/sim/worker_pool.h"

namespace pagefl {

class PooledServerEvaluator final : public ServerEvaluator {
 public:
  // `stack_uploads`: score the models of evaluateEach in fixed stacks (nn/stacked_scoring.h),
  // for fully connected models.
  PooledServerEvaluator(WorkerPool& pool, const Dataset& test, std::int64_t batch_size, bool stack_uploads = false)
      : pool_(pool), test_(test), batch_size_(batch_size), stack_uploads_(stack_uploads) {}

  EvalResult evaluate(const torch::Tensor& params) override;
  std::vector<EvalResult> evaluateEach(const std::vector<torch::Tensor>& params) override;

 private:
  WorkerPool& pool_;
  const Dataset& test_;
  std::int64_t batch_size_;
  bool stack_uploads_;
};

}  // namespace pagefl
