// Server-test evaluation spread over the worker pool, shared by the simulator and the deployed
// server. The test set is cut into fixed chunks of whole evaluation batches, summed in chunk
// order, so results are identical for any number of workers.
#pragma once

#include "pagefl/fl/algorithm.h"
#include "pagefl/sim/worker_pool.h"

namespace pagefl {

class PooledServerEvaluator final : public ServerEvaluator {
 public:
  PooledServerEvaluator(WorkerPool& pool, const Dataset& test, std::int64_t batch_size)
      : pool_(pool), test_(test), batch_size_(batch_size) {}

  EvalResult evaluate(const torch::Tensor& params) override;
  std::vector<EvalResult> evaluateEach(const std::vector<torch::Tensor>& params) override;

 private:
  WorkerPool& pool_;
  const Dataset& test_;
  std::int64_t batch_size_;
};

}  // namespace pagefl
