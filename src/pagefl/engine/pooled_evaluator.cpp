#include "pagefl/engine/pooled_evaluator.h"

#include <torch/torch.h>

#include <algorithm>

#include "pagefl/core/error.h"
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
                                                            std::int64_t samples,
                                                            const std::vector<std::int64_t>& stack_keys) {
  const bool subset = samples > 0 && samples < test_.size();
  if (subset && !subsets_.count(samples)) {
    auto rng = streams_.engine(Purpose::ServerScoreSubset);
    subsets_[samples] = stratifiedSubset(test_, samples, rng);
  }
  const Dataset& test = subset ? subsets_.at(samples) : test_;
  std::vector<EvalResult> results(params.size());
  if (stack_uploads_) {
    // Stacks of at most a fixed size, cut where the key changes, whatever the worker count, so
    // results depend on neither.
    constexpr std::int64_t kStack = 16;
    if (!stack_keys.empty() && stack_keys.size() != params.size())
      throw Error("{} stack keys for {} models", stack_keys.size(), params.size());
    const auto count = static_cast<std::int64_t>(params.size());
    std::vector<std::int64_t> starts;
    for (std::int64_t i = 0; i < count; ++i)
      if (starts.empty() || i - starts.back() == kStack || (!stack_keys.empty() && stack_keys[i] != stack_keys[i - 1]))
        starts.push_back(i);
    starts.push_back(count);
    pool_.forEach(static_cast<std::int64_t>(starts.size()) - 1, [&](std::int64_t s, FlatModel& model) {
      const std::int64_t begin = starts[s], end = starts[s + 1];
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
