// The validation split and `compare --tune`: the split is disjoint from train and test, leaves the
// test split as it was and is deterministic; tuning runs the same number of trials per contender,
// starts from the config's own setting, and never reads a test split.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "pagefl/core/config.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/data/leaf_json.h"
#include "pagefl/pilot/compare.h"
#include "test_support.h"

namespace pagefl {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

// Rows of x as a set, to compare which samples two datasets hold.
std::multiset<std::vector<float>> rowsOf(const Dataset& data) {
  std::multiset<std::vector<float>> rows;
  const torch::Tensor flat = data.x.reshape({data.size(), -1}).contiguous();
  for (std::int64_t i = 0; i < data.size(); ++i) {
    const float* row = flat[i].data_ptr<float>();
    rows.insert(std::vector<float>(row, row + flat.size(1)));
  }
  return rows;
}

bool disjoint(const std::multiset<std::vector<float>>& a, const std::multiset<std::vector<float>>& b) {
  for (const auto& row : a)
    if (b.count(row)) return false;
  return true;
}

std::vector<std::string> synthetic(double validation_fraction) {
  return {"data.source=synthetic", "partition.scheme=natural", "synthetic.num_clients=5",
          "synthetic.samples_per_client=40", fmt::format("partition.validation_fraction={}", validation_fraction)};
}

TEST(ValidationSplit, IsCarvedFromTrainingDataDisjointFromTestAndDeterministic) {
  const FederatedDataset plain = buildFederatedDataset(parseConfig("", synthetic(0)));
  const FederatedDataset carved = buildFederatedDataset(parseConfig("", synthetic(0.25)));
  const FederatedDataset again = buildFederatedDataset(parseConfig("", synthetic(0.25)));
  ASSERT_EQ(carved.numClients(), plain.numClients());
  for (std::int64_t c = 0; c < carved.numClients(); ++c) {
    EXPECT_EQ(plain.clients[c].validationSize(), 0);
    const Dataset train = carved.clientTrain(c), validation = carved.clientValidation(c), test = carved.clientTest(c);
    // 70% of 32 local samples train: 22; a quarter of those, 6, validate.
    EXPECT_EQ(validation.size(), 6) << c;
    EXPECT_EQ(train.size() + validation.size(), plain.clientTrain(c).size());
    // The test split is the one a run without validation has.
    EXPECT_TRUE(torch::equal(test.x, plain.clientTest(c).x));
    EXPECT_TRUE(torch::equal(test.y, plain.clientTest(c).y));
    // Train and validation together are the training data without validation.
    auto together = rowsOf(train);
    for (const auto& row : rowsOf(validation)) together.insert(row);
    EXPECT_EQ(together, rowsOf(plain.clientTrain(c)));
    EXPECT_TRUE(disjoint(rowsOf(validation), rowsOf(train)));
    EXPECT_TRUE(disjoint(rowsOf(validation), rowsOf(test)));
    EXPECT_TRUE(torch::equal(validation.x, again.clientValidation(c).x));
  }
  EXPECT_TRUE(torch::equal(carved.server_test.x, plain.server_test.x));

  // The view tuning trains on: validation in place of the test splits, pooled as the server's.
  const FederatedDataset view = validationView(carved);
  std::int64_t pooled = 0;
  for (std::int64_t c = 0; c < view.numClients(); ++c) {
    EXPECT_TRUE(torch::equal(view.clientTest(c).x, carved.clientValidation(c).x));
    EXPECT_TRUE(torch::equal(view.clientTrain(c).x, carved.clientTrain(c).x));
    pooled += carved.clientValidation(c).size();
  }
  EXPECT_EQ(view.server_test.size(), pooled);
  EXPECT_NE(testing::errorOf([&] { validationView(plain); }).find("partition.validation_fraction"), std::string::npos);
}

// A LEAF federation of 6 users whose labels follow the largest of 4 features; test.json's labels
// are random when `poisoned`.
void writeLeafFederation(const std::string& directory, bool poisoned) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(11), poison = at::make_generator<at::CPUGeneratorImpl>(12);
  std::vector<LeafUser> train, test;
  for (int u = 0; u < 6; ++u) {
    const torch::Tensor x = torch::randn({40, 4}, generator), tx = torch::randn({15, 4}, generator);
    torch::Tensor ty = std::get<1>(tx.slice(1, 0, 3).max(1));
    if (poisoned) ty = torch::randint(0, 3, {15}, poison, torch::kInt64);  // the same features either way
    train.push_back({fmt::format("user{}", u), {x, std::get<1>(x.slice(1, 0, 3).max(1))}});
    test.push_back({fmt::format("user{}", u), {tx, ty}});
  }
  fs::create_directories(directory);
  writeLeafJson(directory + "/train.json", train);
  writeLeafJson(directory + "/test.json", test);
}

CompareOptions tunedLeafComparison(const TempDir& dir, const std::string& data, const std::string& output) {
  CompareOptions options;
  options.overrides = {"data.source=leaf", fmt::format("data.leaf_train=\"{}/train.json\"", data),
                       fmt::format("data.leaf_test=\"{}/test.json\"", data), "partition.scheme=natural",
                       "partition.validation_fraction=0.3", "model.name=logreg", "run.rounds=3",
                       "run.progress=false", "page.warmup_rounds=1", "page.epoch_max=3"};
  options.variants = algorithmVariants({"fedavg", "fedprox", "page"});
  options.tune = TuneOptions{4, 2, "mean"};
  options.output_dir = dir.file(output);
  return options;
}

nlohmann::json tuningOf(const ComparisonOutcome& outcome) {
  std::ifstream in(fs::path(outcome.directory) / "tuning" / "tuning.json");
  return nlohmann::json::parse(in);
}

TEST(Tune, EveryContenderGetsTheSameTrialsStartingFromItsOwnSetting) {
  TempDir dir;
  writeLeafFederation(dir.file("clean"), false);
  const ComparisonOutcome outcome = runComparison(tunedLeafComparison(dir, dir.file("clean"), "out"));
  const nlohmann::json tuning = tuningOf(outcome);
  ASSERT_EQ(tuning["contenders"].size(), 3u);
  for (const auto& contender : tuning["contenders"]) {
    ASSERT_EQ(contender["trials"].size(), 4u) << contender["variant"];
    double best = -1;
    for (const auto& trial : contender["trials"]) best = std::max(best, trial["score"].get<double>());
    const auto& chosen = contender["trials"][contender["chosen_trial"].get<std::size_t>()];
    EXPECT_EQ(chosen["score"].get<double>(), best);
    EXPECT_EQ(contender["chosen"], chosen["overrides"]);
    EXPECT_TRUE(fs::is_regular_file(fs::path(outcome.directory) / "tuning" / contender["variant"].get<std::string>() /
                                    "trial-3" / "summary.json"));
  }
  // The first trial is the config's own setting; FedProx also searches its mu, PAGE its bounds.
  EXPECT_EQ(tuning["contenders"][0]["trials"][0]["overrides"],
            (std::vector<std::string>{"train.lr=0.01", "train.epochs=1"}));
  EXPECT_EQ(tuning["contenders"][1]["space"].size(), 3u);
  EXPECT_EQ(tuning["contenders"][2]["space"][0]["key"], "page.lr_max");
  // The runs that are reported took the chosen setting, and the report shows the search.
  for (std::size_t v = 0; v < 3; ++v) {
    const fs::path run = fs::path(outcome.directory) /
                         fmt::format("{}-seed1", tuning["contenders"][v]["variant"].get<std::string>()) / "config.toml";
    const std::string ran = toToml(loadConfig(run.string()));
    // Applying the chosen overrides to the run's config changes nothing: it already has them.
    EXPECT_EQ(toToml(parseConfig(ran, tuning["contenders"][v]["chosen"].get<std::vector<std::string>>())), ran)
        << tuning["contenders"][v]["variant"];
  }
  EXPECT_NE(testing::readFile(outcome.report).find("<h2>Tuning</h2>"), std::string::npos);

  // Rerun: every trial and run is reused, with the same choice.
  const ComparisonOutcome again = runComparison(tunedLeafComparison(dir, dir.file("clean"), "out"));
  EXPECT_EQ(again.runs_done, 0);
  EXPECT_EQ(tuningOf(again), tuning);
}

TEST(Tune, NeverReadsATestSplit) {
  TempDir dir;
  writeLeafFederation(dir.file("clean"), false);
  writeLeafFederation(dir.file("poisoned"), true);
  const ComparisonOutcome clean = runComparison(tunedLeafComparison(dir, dir.file("clean"), "clean-out"));
  const ComparisonOutcome poisoned = runComparison(tunedLeafComparison(dir, dir.file("poisoned"), "poisoned-out"));
  // Random test labels change what is reported on the test splits...
  EXPECT_NE(clean.rows[0].p2l_final.mean, poisoned.rows[0].p2l_final.mean);
  // ...and nothing of the search: every trial's validation scores, hence every choice.
  nlohmann::json a = tuningOf(clean), b = tuningOf(poisoned);
  EXPECT_EQ(a["contenders"], b["contenders"]);
}

TEST(Tune, NeedsAValidationSplitAndNeverReusesAnotherConfigsRun) {
  TempDir dir;
  writeLeafFederation(dir.file("clean"), false);
  CompareOptions options = tunedLeafComparison(dir, dir.file("clean"), "out");
  options.overrides.push_back("partition.validation_fraction=0");
  EXPECT_NE(testing::errorOf([&] { runComparison(options); }).find("set it, e.g. partition.validation_fraction=0.2"),
            std::string::npos);

  // A finished untuned run in the directory is not passed off as the tuned one: it is moved
  // aside, kept, and the tuned run is trained.
  options = tunedLeafComparison(dir, dir.file("clean"), "out");
  options.variants = algorithmVariants({"fedavg"});
  CompareOptions untuned = options;
  untuned.tune.reset();
  untuned.overrides.push_back("run.rounds=2");
  runComparison(untuned);
  const ComparisonOutcome tuned = runComparison(options);
  EXPECT_EQ(tuned.runs_done, 1);
  EXPECT_EQ(tuned.rows[0].final_round, 3);
  EXPECT_TRUE(fs::is_regular_file(fs::path(tuned.directory) / "replaced" / "fedavg-seed1" / "summary.json"));

  // Trials of other rounds are not reused either.
  options.tune->rounds = 3;
  runComparison(options);
  const nlohmann::json trial = nlohmann::json::parse(
      testing::readFile((fs::path(tuned.directory) / "tuning" / "fedavg" / "trial-0" / "summary.json").string()));
  EXPECT_EQ(trial["rounds"], 3);
  EXPECT_TRUE(fs::is_directory(fs::path(tuned.directory) / "tuning" / "fedavg" / "replaced" / "trial-0"));
}

}  // namespace
}  // namespace pagefl
