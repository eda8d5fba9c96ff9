// Exact aggregation and client-statistics math on small hand-made cases.
#include "pagefl/fl/aggregation.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "pagefl/core/error.h"
#include "pagefl/report/client_aggregates.h"
#include "test_support.h"

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

// Values whose float64 sum depends on the order of additions: 2^53 + 1 + 1 - 2^53 is 0 added
// left to right (each 1 rounds away), but 2 when the two ones are summed first.
TEST(BlockedSum, AddsWithinEachBlockOfClientsThenTheBlockSumsInBlockOrder) {
  const auto big = torch::tensor({9007199254740992.0f});  // 2^53, exact in float32
  const auto one = torch::ones({1});
  const double b = static_cast<double>(big.item<float>());
  BlockedSum sum;
  sum.add(0, big, 1.0);                       // block 0
  sum.add(kAggregationBlock, one, 1.0);       // block 1
  sum.add(kAggregationBlock + 1, one, 1.0);   // block 1
  sum.add(2 * kAggregationBlock, -big, 1.0);  // block 2
  // (b + (1 + 1)) - b in float64, over a total weight of 4.
  const double expected = ((b + 2.0) - b) / 4.0;
  EXPECT_EQ(sum.average().item<float>(), static_cast<float>(expected));
  EXPECT_NE(expected, (((b + 1.0) + 1.0) - b) / 4.0) << "the case must tell the two orders apart";
}

TEST(BlockedSum, ABlockSummedElsewhereGivesTheSameBits) {
  const auto x = torch::randn({50}), y = torch::randn({50}), z = torch::randn({50});
  BlockedSum here;
  here.add(3, x, 2.0);
  here.add(17, y, 5.0);
  here.add(18, z, 1.0);
  here.add(40, torch::Tensor(), 9.0);  // an upload without parameters adds nothing
  BlockedSum sharded;
  sharded.add(3, x, 2.0);
  WeightedSum block1;  // what another process sends for block 1
  block1.add(y, 5.0);
  block1.add(z, 1.0);
  sharded.addBlock(1, WeightedSum::fromParts(block1.sum(), block1.totalWeight()));
  EXPECT_TRUE(torch::equal(here.average(), sharded.average()));
}

TEST(BlockedSum, RefusesClientsOutOfOrderAndABlockTwice) {
  BlockedSum sum;
  sum.add(kAggregationBlock, torch::ones({2}), 1.0);
  EXPECT_NE(testing::errorOf([&] { sum.add(0, torch::ones({2}), 1.0); }).find("ascending"), std::string::npos);
  WeightedSum partial;
  partial.add(torch::ones({2}), 1.0);
  EXPECT_THROW(sum.addBlock(1, partial), Error);
  EXPECT_THROW(WeightedSum::fromParts(torch::ones({2}, torch::kFloat64), -1.0), Error);
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
