#include "pagefl/sim/pooled_evaluator.h"

#include <torch/torch.h>

#include <algorithm>

namespace pagefl {

EvalResult PooledServerEvaluator::evaluate(const torch::Tensor& params) {
  const std::int64_t chunk = batch_size_;
  const std::int64_t chunks = (test_.size() + chunk - 1) / chunk;
  std::vector<EvalResult> parts(static_cast<std::size_t>(chunks));
  pool_.forEach(chunks, [&](std::int64_t i, FlatModel& model) {
    model.load(params);
    parts[i] = pagefl::evaluate(model, test_.slice(i * chunk, std::min((i + 1) * chunk, test_.size())), batch_size_);
  });
  EvalResult total;
  for (const EvalResult& part : parts) total += part;
  return total;
}

std::vector<EvalResult> PooledServerEvaluator::evaluateEach(const std::vector<torch::Tensor>& params) {
  std::vector<EvalResult> results(params.size());
  pool_.forEach(static_cast<std::int64_t>(params.size()), [&](std::int64_t i, FlatModel& model) {
    model.load(params[i]);
    results[i] = pagefl::evaluate(model, test_, batch_size_);
  });
  return results;
}

}  // namespace pagefl
