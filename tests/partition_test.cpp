// Properties of the partitioners: nothing lost or duplicated, determinism, skew, clear failures.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <set>

#include "pagefl/core/error.h"
#include "pagefl/data/partition.h"

namespace pagefl {
namespace {

torch::Tensor labels(std::int64_t n, std::int64_t classes) { return torch::arange(n, torch::kInt64) % classes; }

void expectExactCover(const ClientIndices& clients, std::int64_t n) {
  std::vector<int> seen(static_cast<std::size_t>(n), 0);
  std::int64_t total = 0;
  for (const auto& client : clients)
    for (std::int64_t i : client) ++seen[i], ++total;
  EXPECT_EQ(total, n);
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(seen[i], 1) << "sample " << i;
}

TEST(DirichletPartition, SizesAddUpWithNoSampleLostOrDuplicated) {
  std::mt19937_64 rng(3);
  auto clients = partitionDirichlet(labels(5000, 10), 10, 20, 0.5, 10, 100, rng);
  ASSERT_EQ(clients.size(), 20u);
  expectExactCover(clients, 5000);
  for (const auto& client : clients) EXPECT_GE(client.size(), 10u);
}

TEST(DirichletPartition, SameSeedSamePartitionAndOtherSeedAnother) {
  std::mt19937_64 a(11), b(11), c(12);
  auto y = labels(3000, 10);
  auto first = partitionDirichlet(y, 10, 10, 0.3, 5, 100, a);
  EXPECT_EQ(first, partitionDirichlet(y, 10, 10, 0.3, 5, 100, b));
  EXPECT_NE(first, partitionDirichlet(y, 10, 10, 0.3, 5, 100, c));
}

TEST(DirichletPartition, SmallAlphaSkewsLabels) {
  std::mt19937_64 rng(5);
  auto y = labels(10000, 10);
  auto clients = partitionDirichlet(y, 10, 10, 0.05, 1, 100, rng);
  double dominant = 0;  // average share of each client's most common class
  for (const auto& client : clients) {
    std::vector<int> counts(10, 0);
    for (std::int64_t i : client) ++counts[i % 10];
    dominant += static_cast<double>(*std::max_element(counts.begin(), counts.end())) / static_cast<double>(client.size());
  }
  EXPECT_GT(dominant / 10, 0.5);
}

TEST(DirichletPartition, ImpossibleMinimumSizeFailsFastWithAClearError) {
  std::mt19937_64 rng(1);
  auto y = labels(100, 10);
  auto started = std::chrono::steady_clock::now();
  try {
    partitionDirichlet(y, 10, 10, 0.5, 11, 1000000, rng);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("partition.min_size"), std::string::npos);
  }
  try {  // possible in principle, but not with such skew: the retries run out
    partitionDirichlet(y, 10, 10, 0.01, 10, 50, rng);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no draw in 50 attempts"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(IidPartition, EqualSizesAndExactCover) {
  std::mt19937_64 rng(2);
  auto clients = partitionIid(103, 10, rng);
  expectExactCover(clients, 103);
  for (const auto& client : clients) EXPECT_TRUE(client.size() == 10 || client.size() == 11);
}

TEST(ShardPartition, EachClientSeesAboutKClasses) {
  std::mt19937_64 rng(4);
  auto y = labels(2000, 10);
  auto clients = partitionShards(y, 10, 2, rng);
  expectExactCover(clients, 2000);
  for (const auto& client : clients) {
    std::set<std::int64_t> classes;
    for (std::int64_t i : client) classes.insert(i % 10);
    EXPECT_LE(classes.size(), 2u);
  }
  std::mt19937_64 rng2(4);
  EXPECT_THROW(partitionShards(labels(10, 10), 10, 2, rng2), Error);
}

}  // namespace
}  // namespace pagefl
