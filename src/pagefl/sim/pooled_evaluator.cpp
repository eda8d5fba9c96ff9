#include "pagefl/sim/pooled_evaluator.h"

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

Dataset stratifiedSubset(const Dataset& data, std::int64_t samples, std::mt19937_64& rng) {
  const std::vector<std::int64_t> labels(data.y.data_ptr<std::int64_t>(), data.y.data_ptr<std::int64_t>() + data.size());
  std::map<std::int64_t, std::vector<std::int64_t>> by_class;
  for (std::int64_t i = 0; i < data.size(); ++i) by_class[labels[i]].push_back(i);
  // Each class's exact share, floored; the remaining picks go to the largest remainders.
  std::vector<std::pair<double, std::int64_t>> remainders;
  std::map<std::int64_t, std::int64_t> quota;
  std::int64_t given = 0;
  for (const auto& [label, members] : by_class) {
    const double share = static_cast<double>(members.size()) * static_cast<double>(samples) / static_cast<double>(data.size());
    quota[label] = static_cast<std::int64_t>(share);
    given += quota[label];
    remainders.emplace_back(-(share - static_cast<double>(quota[label])), label);
  }
  std::sort(remainders.begin(), remainders.end());
  for (std::size_t i = 0; given < samples && i < remainders.size(); ++i, ++given) ++quota[remainders[i].second];
  std::vector<std::int64_t> picked;
  for (auto& [label, members] : by_class) {
    std::shuffle(members.begin(), members.end(), rng);
    picked.insert(picked.end(), members.begin(), members.begin() + quota[label]);
  }
  std::sort(picked.begin(), picked.end());
  const torch::Tensor index = torch::tensor(picked, torch::kInt64);
  return {data.x.index_select(0, index), data.y.index_select(0, index)};
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
