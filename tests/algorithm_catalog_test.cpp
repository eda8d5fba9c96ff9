// Algorithms register themselves: their names, factories and own config fields come from their
// files, and the config reads, checks, copies and writes those fields like any other.
#include <gtest/gtest.h>

#include <set>

#include "pagefl/core/config.h"
#include "pagefl/fl/algorithm.h"
#include "pagefl/fl/algorithms/ditto.h"
#include "pagefl/fl/algorithms/partly_local.h"
#include "test_support.h"

namespace pagefl {
namespace {

using testing::errorOf;

TEST(AlgorithmCatalog, EveryAlgorithmRegistersOnceWithASummaryAndBuildsFromTheDefaults) {
  const std::vector<AlgorithmEntry>& entries = registeredAlgorithms();
  EXPECT_EQ(entries.size(), 20u);
  std::set<std::string> names;
  for (const AlgorithmEntry& entry : entries) {
    EXPECT_TRUE(names.insert(entry.name).second) << entry.name;
    EXPECT_FALSE(entry.summary.empty()) << entry.name;
    Config config;
    config.algorithm.name = entry.name;
    const Algorithm algorithm = makeAlgorithm(config);
    EXPECT_TRUE(algorithm.server && algorithm.client) << entry.name;
    // What `compare --tune` searches is a key the config knows.
    for (const TuneDimension& dimension : entry.own_coefficients) {
      const std::string high = dimension.integer ? std::to_string(static_cast<std::int64_t>(dimension.high))
                                                 : std::to_string(dimension.high);
      EXPECT_NO_THROW(parseConfig("", {dimension.key + "=" + high})) << dimension.key;
    }
  }
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.end()), algorithmNames());
}

TEST(AlgorithmCatalog, AnAlgorithmsOwnFieldsAreReadCheckedCopiedAndWritten) {
  Config config = parseConfig("[algorithm]\nname = \"ditto\"\nditto_lambda = 0.5\n", {"algorithm.head_layers=2"});
  EXPECT_DOUBLE_EQ(config.algorithm_settings.get<DittoSettings>().lambda, 0.5);
  EXPECT_EQ(config.algorithm_settings.get<HeadSettings>().layers, 2);
  Config copy = config;
  copy.algorithm_settings.get<DittoSettings>().lambda = 2;
  EXPECT_DOUBLE_EQ(config.algorithm_settings.get<DittoSettings>().lambda, 0.5);  // a deep copy
  EXPECT_DOUBLE_EQ(parseConfig(toToml(config)).algorithm_settings.get<DittoSettings>().lambda, 0.5);
  EXPECT_NE(errorOf([] { parseConfig("", {"algorithm.ditto_lambda=-1"}); }).find("out of range"), std::string::npos);
  EXPECT_NE(errorOf([] { parseConfig("", {"algorithm.ditto_lamda=1"}); }).find("did you mean 'algorithm.ditto_lambda'"),
            std::string::npos);
}

TEST(AlgorithmCatalog, AnUnknownNameListsTheRegisteredOnes) {
  Config config;
  config.algorithm.name = "fedsomething";
  const std::string message = errorOf([&] { makeAlgorithm(config); });
  EXPECT_NE(message.find("unknown algorithm.name 'fedsomething'"), std::string::npos) << message;
  EXPECT_NE(message.find("ditto, fedala"), std::string::npos) << message;
}

}  // namespace
}  // namespace pagefl
