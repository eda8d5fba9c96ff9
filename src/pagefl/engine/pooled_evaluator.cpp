#include "pagefl/engine/pooled_evaluator.h"

#include <torch/torch.h>

#include <algorithm>

#include "pagefl/nn/stacked_scoring.h"

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

std::vector<EvalResult> PooledServerEvaluator::evaluateEach(const std::vector<torch::Tensor>& params,
                                                            std::int64_t samples) {
  const bool subset = samples > 0 && samples < test_.size();
  if (subset && !subsets_.count(samples)) {
    auto rng = streams_.engine(Purpose::ServerScoreSubset);
    subsets_[samples] = stratifiedSubset(test_, samples, rng);
  }
  const Dataset& test = subset ? subsets_.at(samples) : test_;
  std::vector<EvalResult> results(params.size());
  if (stack_uploads_) {
    // Stacks of a fixed size, whatever the worker count, so results do not depend on it.
    constexpr std::int64_t kStack = 16;
    const auto count = static_cast<std::int64_t>(params.size());
    pool_.forEach((count + kStack - 1) / kStack, [&](std::int64_t s, FlatModel& model) {
      const std::int64_t begin = s * kStack, end = std::min(count, begin + kStack);
      const std::vector<torch::Tensor> stack(params.begin() + begin, params.begin() + end);
      const std::vector<EvalResult> scored = evaluateStacked(model.layout(), stack, test, batch_size_);
      std::copy(scored.begin(), scored.end(), results.begin() + begin);
    });
    return results;
  }
  pool_.forEach(static_cast<std::int64_t>(params.size()), [&](std::int64_t i, FlatModel& model) {
    model.load(params[i]);
    results[i] = pagefl::evaluate(model, test, batch_size_);
  });
  return results;
}

}  // namespace pagefl
