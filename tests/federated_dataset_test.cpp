// Building federated datasets from configs: splits, determinism, natural sources, exports.
#include "pagefl/data/federated_dataset.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "pagefl/core/config.h"
#include "pagefl/core/error.h"
#include "pagefl/data/sample_pool.h"
#include "test_support.h"

namespace pagefl {
namespace {

using testing::TempDir;

Config mnistLike(const TempDir& dir, std::vector<std::string> overrides = {}) {
  overrides.push_back("data.source=mnist");
  overrides.push_back(fmt::format("data.path=\"{}\"", dir.file("mnist")));
  return parseConfig("", overrides);
}

TEST(FederatedDataset, ClientsSplitLocallyAndTheServerKeepsTheOfficialTestSplit) {
  TempDir dir;
  testing::writeMnistLikeDataset(dir.file("mnist"), 600, 100, /*gzip=*/true);
  FederatedDataset data = buildFederatedDataset(mnistLike(dir, {"partition.num_clients=6", "partition.train_fraction=0.7"}));
  ASSERT_EQ(data.numClients(), 6);
  EXPECT_EQ(data.server_test.size(), 100);
  EXPECT_EQ(data.local.size(), 600);
  EXPECT_EQ(data.sampleShape(), (std::vector<std::int64_t>{1, 28, 28}));
  for (const ClientShard& c : data.clients) {
    EXPECT_NEAR(static_cast<double>(c.trainSize()) / static_cast<double>(c.trainSize() + c.testSize()), 0.7, 0.02);
    EXPECT_EQ(data.clientTrain(0).x.data_ptr(), data.local.x.data_ptr());  // views, not copies
  }
}

TEST(FederatedDataset, SameSeedSamePartitionOtherSeedAnother) {
  TempDir dir;
  testing::writeMnistLikeDataset(dir.file("mnist"), 500, 50, /*gzip=*/false);
  auto a = buildFederatedDataset(mnistLike(dir, {"run.seed=4"}));
  auto b = buildFederatedDataset(mnistLike(dir, {"run.seed=4"}));
  auto c = buildFederatedDataset(mnistLike(dir, {"run.seed=5"}));
  EXPECT_TRUE(torch::equal(a.local.y, b.local.y));
  EXPECT_TRUE(torch::equal(a.local.x, b.local.x));
  EXPECT_FALSE(torch::equal(a.local.y, c.local.y));
}

TEST(FederatedDataset, SyntheticSetupFollowsThePaper) {
  Config config = parseConfig("", {"data.source=synthetic", "partition.scheme=natural", "synthetic.num_clients=5",
                                   "synthetic.samples_per_client=100"});
  FederatedDataset data = buildFederatedDataset(config);
  ASSERT_EQ(data.numClients(), 5);
  EXPECT_EQ(data.server_test.size(), 5 * 20);  // last 20% of each client
  for (const ClientShard& c : data.clients) {
    EXPECT_EQ(c.trainSize(), 56);  // 70% of the 80 local samples
    EXPECT_EQ(c.testSize(), 24);
  }
  EXPECT_EQ(data.num_classes, 30);
  EXPECT_EQ(data.sampleShape(), (std::vector<std::int64_t>{30}));
}

TEST(FederatedDataset, ExportedLeafPartitionRunsAsTheSameData) {
  TempDir dir;
  testing::writeMnistLikeDataset(dir.file("mnist"), 300, 40, /*gzip=*/true);
  FederatedDataset original = buildFederatedDataset(mnistLike(dir, {"partition.num_clients=3"}));
  exportLeaf(original, dir.file("leaf"));
  Config leaf = parseConfig("", {"data.source=leaf", "partition.scheme=natural",
                                 fmt::format("data.leaf_train=\"{}\"", dir.file("leaf/train.json")),
                                 fmt::format("data.leaf_test=\"{}\"", dir.file("leaf/test.json")),
                                 fmt::format("data.leaf_server_test=\"{}\"", dir.file("leaf/server_test.json")),
                                 "data.leaf_sample_shape=[1, 28, 28]"});
  FederatedDataset again = buildFederatedDataset(leaf);
  ASSERT_EQ(again.numClients(), 3);
  EXPECT_TRUE(torch::equal(again.local.x, original.local.x));
  EXPECT_TRUE(torch::equal(again.local.y, original.local.y));
  EXPECT_TRUE(torch::equal(again.server_test.x, original.server_test.x));
  for (int c = 0; c < 3; ++c) EXPECT_EQ(again.clients[c].trainSize(), original.clients[c].trainSize());
}

// What each rank of a sharded simulation holds: its clients' samples exactly as a whole read has
// them, every client's label counts and validation split, nothing else.
TEST(FederatedDataset, ASelectionReadsItsClientsAsTheWholeReadHasThemAndOnlyThose) {
  TempDir dir;
  testing::writeMnistLikeDataset(dir.file("mnist"), 400, 40, /*gzip=*/true);
  for (const char* subset : {"0", "300"}) {
    const Config config =
        mnistLike(dir, {"partition.num_clients=7", "partition.scheme=dirichlet", "partition.alpha=0.5",
                        "partition.validation_fraction=0.25", std::string("data.train_subset=") + subset});
    const FederatedDataset whole = buildFederatedDataset(config);
    const ClientSelection odd{[](std::int64_t c) { return c % 2 == 1; }};
    const FederatedDataset part = buildFederatedDataset(config, odd);
    ASSERT_EQ(part.numClients(), whole.numClients());
    EXPECT_TRUE(torch::equal(part.server_test.x, whole.server_test.x));
    std::int64_t held = 0;
    for (std::int64_t c = 0; c < whole.numClients(); ++c) {
      const ClientShard &mine = part.clients[c], &all = whole.clients[c];
      EXPECT_EQ(mine.train_label_counts, all.train_label_counts) << "client " << c;
      EXPECT_EQ(mine.samples_read, odd.readsClient(c));
      EXPECT_TRUE(torch::equal(part.clientValidation(c).x, whole.clientValidation(c).x)) << "client " << c;
      if (mine.samples_read) {
        EXPECT_TRUE(torch::equal(part.clientTrain(c).x, whole.clientTrain(c).x)) << "client " << c;
        EXPECT_TRUE(torch::equal(part.clientTest(c).y, whole.clientTest(c).y)) << "client " << c;
        held += all.end - all.begin;
      } else {
        EXPECT_EQ(mine.trainSize(), 0);
        EXPECT_EQ(mine.testSize(), 0);
        held += all.validationSize();
      }
    }
    EXPECT_EQ(part.local.size(), held);
    // Tuning's view pools every client's validation split on every rank.
    EXPECT_TRUE(torch::equal(validationView(part).server_test.x, validationView(whole).server_test.x));
  }
  const FederatedDataset counts_only =
      buildFederatedDataset(mnistLike(dir, {"partition.num_clients=4"}), {[](std::int64_t) { return false; }});
  EXPECT_EQ(counts_only.local.size(), 0);
  EXPECT_EQ(counts_only.clients[2].train_label_counts.size(), 10u);
}

// The images are read only after the partition, but a file whose length belies its header is
// named first, raw or gzipped, rather than a partition error that would follow from it.
TEST(FederatedDataset, ADamagedImagesFileIsNamedBeforeThePartitionIsDrawn) {
  for (bool gzip : {false, true}) {
    TempDir dir;
    testing::writeMnistLikeDataset(dir.file("mnist"), 100, 20, gzip);
    const std::string images = dir.file(gzip ? "mnist/train-images-idx3-ubyte.gz" : "mnist/train-images-idx3-ubyte");
    std::filesystem::resize_file(images, 300);
    const std::string error = testing::errorOf([&] { buildFederatedDataset(mnistLike(dir)); });
    EXPECT_NE(error.find(images), std::string::npos) << error;
  }
}

TEST(SamplePool, ASubsetReadsTheSourceRowsItStandsFor) {
  std::vector<std::vector<std::int64_t>> asked;
  const SamplePool pool(torch::arange(10, 20, torch::kInt64), [&](const std::vector<std::int64_t>& rows) {
    asked.push_back(rows);
    return torch::tensor(rows, torch::kFloat32).unsqueeze(1);
  });
  const SamplePool picked =
      pool.subset(torch::tensor({1, 4, 6, 9}, torch::kInt64)).subset(torch::tensor({0, 2, 3}, torch::kInt64));
  EXPECT_TRUE(torch::equal(picked.labels(), torch::tensor({11, 16, 19}, torch::kInt64)));
  const Dataset read = picked.read({1, 2});
  EXPECT_EQ(asked, (std::vector<std::vector<std::int64_t>>{{6, 9}}));
  EXPECT_TRUE(torch::equal(read.x.squeeze(1), torch::tensor({6.0f, 9.0f})));
  EXPECT_TRUE(torch::equal(read.y, torch::tensor({16, 19}, torch::kInt64)));
}

TEST(FederatedDataset, MissingDataNamesThePathToFix) {
  try {
    buildFederatedDataset(parseConfig("", {"data.source=mnist", "data.path=/nonexistent/mnist"}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/mnist/train-images-idx3-ubyte"), std::string::npos);
  }
  EXPECT_THROW(buildFederatedDataset(parseConfig("", {"data.source=leaf"})), Error);
  try {
    buildFederatedDataset(parseConfig("", {"data.source=mnist", "partition.scheme=natural", "data.path=/nonexistent"}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("naturally partitioned source"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pagefl
