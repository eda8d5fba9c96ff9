#include "pagefl/net/site_data.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "pagefl/core/config.h"
#include "pagefl/core/rng.h"
#include "pagefl/data/data_source.h"
#include "pagefl/data/leaf_json.h"
#include "test_support.h"

namespace pagefl::net {
namespace {

using testing::errorOf;
using testing::TempDir;

// A site with the dataset's own files sees exactly what the simulator makes of those files.
TEST(SiteData, IdxFilesArePreparedAsTheSimulatorPreparesThem) {
  TempDir dir;
  testing::writeMnistLikeDataset(dir.path().string(), 30, 12, /*gzip=*/true);
  SiteData site = loadSiteData(dir.path().string(), "any");
  EXPECT_EQ(site.format, "IDX");
  ASSERT_TRUE(site.raw_images);
  Config config = parseConfig("", {"data.source=mnist", "data.path=" + dir.path().string()});
  SourceData simulated = loadSource(config, RngStreams(1));
  EXPECT_TRUE(torch::equal(standardiseImages(site.train, "mnist").x, simulated.pool.readAll().x));
  EXPECT_TRUE(torch::equal(site.train.y, simulated.pool.labels()));
  EXPECT_TRUE(torch::equal(standardiseImages(site.test, "mnist").x, simulated.server_test.x));
  EXPECT_NE(errorOf([&] { standardiseImages(site.train, "cifar10"); }).find("have 3 channel(s)"), std::string::npos);
}

TEST(SiteData, LeafFilesGiveTheSitesOwnUserAndMistakesAreNamed) {
  TempDir dir;
  const Dataset mine{torch::rand({4, 3}), torch::tensor({0, 1, 0, 1})};
  const Dataset theirs{torch::rand({2, 3}), torch::tensor({1, 1})};
  writeLeafJson(dir.file("train.json"), {{"site-a", mine}, {"site-b", theirs}});
  writeLeafJson(dir.file("test.json"), {{"site-a", theirs}, {"site-b", mine}});
  SiteData site = loadSiteData(dir.path().string(), "site-a");
  EXPECT_FALSE(site.raw_images);
  EXPECT_TRUE(torch::allclose(site.train.x, mine.x));
  EXPECT_EQ(site.test.size(), 2);
  EXPECT_NE(errorOf([&] { loadSiteData(dir.path().string(), "site-z"); }).find("has no user 'site-z'"),
            std::string::npos);

  TempDir empty;
  EXPECT_NE(errorOf([&] { loadSiteData(empty.path().string(), "site-a"); }).find("holds no site data"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { loadSiteData(empty.file("absent"), "site-a"); }).find("is not a directory"),
            std::string::npos);
}

}  // namespace
}  // namespace pagefl::net
