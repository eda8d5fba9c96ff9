// Server-side scoring: the class-stratified subset behind page.server_score_samples, and the
// round's cache that keeps PAGE's server from scoring an upload already scored for P->S.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>

#include "pagefl/data/dataset.h"
#include "pagefl/engine/upload_score_cache.h"

namespace pagefl {
namespace {

TEST(StratifiedSubset, KeepsEveryClassShareExactlyAndIsFixedByTheSeed) {
  // 600 of class 0, 300 of class 1, 100 of class 2, shuffled together.
  std::vector<std::int64_t> labels;
  for (int i = 0; i < 1000; ++i) labels.push_back(i % 10 < 6 ? 0 : i % 10 < 9 ? 1 : 2);
  const Dataset data{torch::arange(1000, torch::kFloat32).view({1000, 1}), torch::tensor(labels, torch::kInt64)};
  std::mt19937_64 a(7), b(7), c(8);
  const Dataset subset = stratifiedSubset(data, 101, a);
  ASSERT_EQ(subset.size(), 101);
  std::map<std::int64_t, int> per_class;
  for (std::int64_t i = 0; i < subset.size(); ++i) ++per_class[subset.y[i].item<std::int64_t>()];
  EXPECT_EQ(per_class[0], 61);  // 60.6: the largest remainder gets the extra pick
  EXPECT_EQ(per_class[1], 30);  // 30.3
  EXPECT_EQ(per_class[2], 10);  // 10.1
  // In the original order, each sample at most once, and with its own label.
  const torch::Tensor rows = subset.x.view({-1}).to(torch::kInt64);
  EXPECT_TRUE(rows.slice(0, 1).gt(rows.slice(0, 0, -1)).all().item<bool>());
  EXPECT_TRUE(data.y.index_select(0, rows).equal(subset.y));
  EXPECT_TRUE(stratifiedSubset(data, 101, b).x.equal(subset.x));
  EXPECT_FALSE(stratifiedSubset(data, 101, c).x.equal(subset.x));
}

struct CountingEvaluator final : ServerEvaluator {
  std::int64_t calls = 0, models_scored = 0;
  EvalResult evaluate(const torch::Tensor&) override { return {1, 1, 0.5}; }
  std::vector<EvalResult> evaluateEach(const std::vector<torch::Tensor>& params, std::int64_t,
                                       const std::vector<std::int64_t>&) override {
    ++calls;
    models_scored += static_cast<std::int64_t>(params.size());
    return std::vector<EvalResult>(params.size(), EvalResult{10, 3, 1.0});
  }
};

TEST(UploadScoreCache, ReusesRememberedUploadsAndScoresOnlyTheRestInOneCall) {
  CountingEvaluator inner;
  UploadScoreCache cache(inner);
  const torch::Tensor a = torch::ones({4}), b = torch::zeros({4}), c = torch::ones({4});  // c equals a, is not a
  cache.remember(a, {10, 9, 0.1});
  const auto results = cache.evaluateEach({a, b, c}, 0, {});
  EXPECT_EQ(results[0].correct, 9);
  EXPECT_EQ(results[1].correct, 3);
  EXPECT_EQ(results[2].correct, 3);
  EXPECT_EQ(inner.calls, 1);
  EXPECT_EQ(inner.models_scored, 2);
  // A subset score is never the whole-set one.
  EXPECT_EQ(cache.evaluateEach({a}, 5, {})[0].correct, 3);
}

}  // namespace
}  // namespace pagefl
