#include <gtest/gtest.h>

#include "pagefl/core/config.h"
#include "pagefl/core/error.h"
#include "test_support.h"

#include <filesystem>
#include <fstream>

namespace pagefl {
namespace {

std::string errorOf(const std::string& toml, const std::vector<std::string>& overrides = {}) {
  try {
    parseConfig(toml, overrides, "test.toml");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsApplyWhenKeysAreAbsent) {
  Config c = parseConfig("[train]\nlr = 0.5\n");
  EXPECT_DOUBLE_EQ(c.train.lr, 0.5);
  EXPECT_EQ(c.train.batch_size, 32);
  EXPECT_EQ(c.data.source, "fashion-mnist");
}

TEST(Config, ExtendsStartsFromTheBaseFileAndOverridesPerKey) {
  testing::TempDir dir;
  std::ofstream(dir.file("base.toml")) << "[train]\nlr = 0.5\nepochs = 3\n[run]\nrounds = 7\n";
  std::filesystem::create_directories(dir.path() / "sub");
  std::ofstream(dir.path() / "sub" / "child.toml") << "extends = \"../base.toml\"\n[train]\nlr = 0.1\n";
  Config c = loadConfig((dir.path() / "sub" / "child.toml").string(), {"run.rounds=9"});
  EXPECT_DOUBLE_EQ(c.train.lr, 0.1);  // the child's value
  EXPECT_EQ(c.train.epochs, 3);       // the base's value in a table both files have
  EXPECT_EQ(c.run.rounds, 9);         // overrides still win

  std::ofstream(dir.file("loop.toml")) << "extends = \"loop.toml\"\n";
  EXPECT_NE(testing::errorOf([&] { loadConfig(dir.file("loop.toml")); }).find("cycle"), std::string::npos);
  std::ofstream(dir.file("orphan.toml")) << "extends = \"missing.toml\"\n";
  EXPECT_NE(testing::errorOf([&] { loadConfig(dir.file("orphan.toml")); }).find("missing.toml"), std::string::npos);
}

TEST(Config, DottedOverridesWinOverTheFile) {
  Config c = parseConfig("[train]\nlr = 0.5\n",
                         {"train.lr=0.25", "data.source=mnist", "model.hidden=[64, 32]", "run.progress=false"});
  EXPECT_DOUBLE_EQ(c.train.lr, 0.25);
  EXPECT_EQ(c.data.source, "mnist");
  EXPECT_EQ(c.model.hidden, (std::vector<std::int64_t>{64, 32}));
  EXPECT_FALSE(c.run.progress);
}

TEST(Config, IntegerIsAcceptedForARealField) {
  EXPECT_DOUBLE_EQ(parseConfig("[train]\nlr = 1\n").train.lr, 1.0);
}

TEST(Config, UnknownKeySuggestsTheClosestKnownKey) {
  std::string message = errorOf("[train]\nlearning_rate = 0.1\n");
  EXPECT_NE(message.find("unknown key 'train.learning_rate'"), std::string::npos) << message;
  message = errorOf("[train]\nbatchsize = 3\n");
  EXPECT_NE(message.find("did you mean 'train.batch_size'"), std::string::npos) << message;
  EXPECT_NE(errorOf("", {"trian.lr=3"}).find("unknown key 'trian.lr'"), std::string::npos);
}

TEST(Config, OutOfRangeValuesNameTheKeyAndTheRange) {
  std::string message = errorOf("[algorithm]\nparticipation = 1.5\n");
  EXPECT_NE(message.find("algorithm.participation = 1.5 is out of range"), std::string::npos) << message;
  EXPECT_NE(errorOf("[run]\nworkers = 0\n").find("run.workers"), std::string::npos);
}

TEST(Config, WrongTypesAndChoicesAreExplained) {
  EXPECT_NE(errorOf("[train]\nlr = \"fast\"\n").find("train.lr must be a number"), std::string::npos);
  std::string message = errorOf("[model]\nname = \"resnet\"\n");
  EXPECT_NE(message.find("choose one of: logreg, mlp, cnn"), std::string::npos) << message;
  EXPECT_NE(errorOf("[model]\nhidden = [64, \"wide\"]\n").find("model.hidden must be an array of integers"),
            std::string::npos);
  EXPECT_NE(errorOf("[deploy]\nclients = [\"a\", 2]\n").find("deploy.clients must be an array of strings"),
            std::string::npos);
}

TEST(Config, MalformedTomlReportsTheLine) {
  std::string message = errorOf("[train]\nlr = = 3\n");
  EXPECT_NE(message.find("test.toml:2"), std::string::npos) << message;
}

TEST(Config, MissingFileIsAClearError) {
  EXPECT_THROW(loadConfig("/nonexistent/pagefl.toml"), Error);
}

TEST(Config, ResolvedTomlReadsBackToTheSameConfig) {
  Config original =
      parseConfig("", {"train.lr=0.125", "model.hidden=[7]", "run.name=\"x y\"", "deploy.clients=[\"a\", \"b\"]"});
  Config again = parseConfig(toToml(original));
  EXPECT_EQ(toToml(again), toToml(original));
  EXPECT_EQ(again.deploy.clients, (std::vector<std::string>{"a", "b"}));
  EXPECT_DOUBLE_EQ(again.train.lr, 0.125);
  EXPECT_EQ(again.run.name, "x y");
}

TEST(Config, PublishedPageVariantSetsEveryFaithfulSwitchUnlessAKeySaysOtherwise) {
  const PageConfig intent = parseConfig("").page;
  EXPECT_EQ(intent.variant, "pagefl");
  EXPECT_EQ(intent.action_map, "affine");
  EXPECT_FALSE(intent.faithful_lag || intent.faithful_action_storage || intent.faithful_warmup ||
               intent.faithful_sampling);
  EXPECT_EQ(balanceAt(intent, 1), 0.5);

  const PageConfig published = parseConfig("[page]\nvariant = \"published\"\n").page;
  EXPECT_EQ(published.action_map, "published");
  EXPECT_TRUE(published.faithful_lag && published.faithful_action_storage && published.faithful_warmup &&
              published.faithful_sampling);
  EXPECT_EQ(balanceAt(published, 1), std::nullopt);
  const PageConfig mixed = parseConfig("", {"page.variant=\"published\"", "page.faithful_sampling=false"}).page;
  EXPECT_FALSE(mixed.faithful_sampling);
  EXPECT_TRUE(mixed.faithful_warmup);
  // What a run writes reads back to the same variant.
  EXPECT_EQ(toToml(parseConfig(toToml(parseConfig("", {"page.variant=\"published\""})))),
            toToml(parseConfig("", {"page.variant=\"published\""})));

  std::string message = errorOf("", {"page.variant=\"published\"", "page.balance=0.2"});
  EXPECT_NE(message.find("page.balance is pagefl's extension"), std::string::npos) << message;
  message = errorOf("", {"page.faithful_lag=true"});
  EXPECT_NE(message.find("page.faithful_lag needs page.variant = \"published\""), std::string::npos) << message;
  EXPECT_NE(errorOf("", {"page.balance=1.5"}).find("page.balance = 1.5 is out of range"), std::string::npos);
}

TEST(Config, DemandShiftKeepsTheBalanceUnlessItNamesANewOne) {
  PageConfig page = parseConfig("", {"page.balance=0.2", "page.shift_round=5"}).page;
  EXPECT_EQ(balanceAt(page, 4), 0.2);
  EXPECT_EQ(balanceAt(page, 5), 0.2);
  page = parseConfig("", {"page.balance=0.2", "page.shift_round=5", "page.shift_balance=0.9"}).page;
  EXPECT_EQ(balanceAt(page, 4), 0.2);
  EXPECT_EQ(balanceAt(page, 5), 0.9);
}

}  // namespace
}  // namespace pagefl
