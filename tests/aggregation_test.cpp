// Exact aggregation and client-statistics math on small hand-made cases.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "pagefl/core/error.h"
#include "pagefl/fl/aggregation.h"
#include "pagefl/report/client_aggregates.h"

namespace pagefl {
namespace {

TEST(WeightedAverage, MatchesHandComputedValues) {
  auto a = torch::tensor({1.0f, 2.0f, -4.0f});
  auto b = torch::tensor({3.0f, 6.0f, 0.0f});
  // weights 1:3 -> (1*a + 3*b) / 4
  auto avg = weightedAverage({a, b}, {1.0, 3.0});
  EXPECT_TRUE(torch::equal(avg, torch::tensor({2.5f, 5.0f, -1.0f})));
  // sample counts 10 and 30 give the same weights
  EXPECT_TRUE(torch::equal(weightedAverage({a, b}, {10.0, 30.0}), avg));
  EXPECT_TRUE(torch::equal(weightedAverage({a}, {7.0}), a));
  // zero weight ignores a model entirely
  EXPECT_TRUE(torch::equal(weightedAverage({a, b}, {0.0, 2.0}), b));
}

TEST(WeightedAverage, RejectsImpossibleInputs) {
  auto a = torch::ones({3});
  EXPECT_THROW(weightedAverage({}, {}), Error);
  EXPECT_THROW(weightedAverage({a}, {0.0}), Error);
  EXPECT_THROW(weightedAverage({a}, {-1.0}), Error);
  EXPECT_THROW(weightedAverage({a, torch::ones({4})}, {1.0, 1.0}), Error);
}

TEST(UpdateDefects, NaNAndWrongShapesAreFound) {
  ClientUpdate update;
  EXPECT_FALSE(findUpdateDefect(update, 3, false));  // local-only training uploads nothing
  update.params = torch::ones({3});
  EXPECT_FALSE(findUpdateDefect(update, 3, true));
  update.params[1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(findUpdateDefect(update, 3, true)->find("NaN"), std::string::npos);
  update.params = torch::ones({4});
  EXPECT_NE(findUpdateDefect(update, 3, true)->find("shape"), std::string::npos);
}

TEST(UpdateDefects, AnUpdateWithoutTheModelIsRefusedWhereModelsAreExpected) {
  ClientUpdate empty;
  ASSERT_TRUE(findUpdateDefect(empty, 3, true));
  EXPECT_NE(findUpdateDefect(empty, 3, true)->find("no model parameters"), std::string::npos);
  empty.tensors["control"] = torch::ones({3});
  EXPECT_TRUE(findUpdateDefect(empty, 3, false));  // tensors without a model are never sound
}

TEST(ClientAggregates, MatchHandComputedStatistics) {
  // values 0.2, 0.4, 0.6, 0.8 with test sizes 1, 1, 1, 5
  ClientAggregate a = aggregateClients({0.8, 0.2, 0.6, 0.4}, {5, 1, 1, 1});
  EXPECT_EQ(a.count, 4u);
  EXPECT_DOUBLE_EQ(a.mean, 0.5);
  EXPECT_DOUBLE_EQ(a.weighted_mean, (0.8 * 5 + 0.2 + 0.6 + 0.4) / 8);
  EXPECT_NEAR(a.std, std::sqrt(0.05), 1e-15);  // population std of 0.2..0.8
  EXPECT_DOUBLE_EQ(a.worst, 0.2);
  EXPECT_NEAR(a.p10, 0.2 + 0.3 * 0.2, 1e-15);  // position 0.1 * 3 = 0.3 between 0.2 and 0.4
  EXPECT_THROW(aggregateClients({}, {}), Error);
}

}  // namespace
}  // namespace pagefl
