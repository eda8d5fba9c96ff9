// A round's uploads already scored on the whole server test set (for the P->S stream), so that an
// algorithm scoring the same uploads again (PAGE's server agent observes every upload's accuracy)
// reuses those results instead of making a second pass over the test set.
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "pagefl/fl/algorithm.h"

namespace pagefl {

class UploadScoreCache final : public ServerEvaluator {
 public:
  explicit UploadScoreCache(ServerEvaluator& inner) : inner_(inner) {}

  // Holds on to `params`, so that no other tensor can take its identity while the cache lives.
  void remember(const torch::Tensor& params, const EvalResult& result) {
    known_[params.unsafeGetTensorImpl()] = {params, result};
  }

  EvalResult evaluate(const torch::Tensor& params) override { return inner_.evaluate(params); }

  // Whole-set scores of remembered tensors come from the cache; the rest in one call to the inner
  // evaluator.
  std::vector<EvalResult> evaluateEach(const std::vector<torch::Tensor>& params, std::int64_t samples,
                                       const std::vector<std::int64_t>& stack_keys) override {
    std::vector<EvalResult> results(params.size());
    std::vector<torch::Tensor> missing;
    std::vector<std::int64_t> missing_keys;
    std::vector<std::size_t> missing_at;
    for (std::size_t i = 0; i < params.size(); ++i) {
      auto hit = samples == 0 ? known_.find(params[i].unsafeGetTensorImpl()) : known_.end();
      if (hit != known_.end()) {
        results[i] = hit->second.second;
      } else {
        missing.push_back(params[i]);
        missing_at.push_back(i);
        if (!stack_keys.empty()) missing_keys.push_back(stack_keys[i]);
      }
    }
    if (!missing.empty()) {
      const std::vector<EvalResult> scored = inner_.evaluateEach(missing, samples, missing_keys);
      for (std::size_t j = 0; j < missing_at.size(); ++j) results[missing_at[j]] = scored[j];
    }
    return results;
  }

 private:
  ServerEvaluator& inner_;
  std::map<const void*, std::pair<torch::Tensor, EvalResult>> known_;
};

}  // namespace pagefl
