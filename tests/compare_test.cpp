// `pagefl compare`: the table equals what the per-round files say, every run shares one
// partition, and an interrupted comparison resumes without redoing finished runs.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "pagefl/core/error.h"
#include "pagefl/pilot/compare.h"
#include "test_support.h"

namespace pagefl {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

CompareOptions tinyComparison(const TempDir& dir) {
  CompareOptions options;
  options.overrides = {"data.source=synthetic", "partition.scheme=natural", "synthetic.num_clients=6",
                       "synthetic.samples_per_client=60", "model.name=logreg", "train.lr=0.05", "run.rounds=4",
                       "run.progress=false", "run.seed=5"};
  options.variants = algorithmVariants({"fedavg", "ditto"});
  options.seeds = 2;
  options.output_dir = dir.file("compare");
  return options;
}

std::vector<nlohmann::json> lines(const fs::path& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(testing::readFile(path.string()));
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Mean and sample std over the two seeds of one number read from each run's rounds.jsonl.
std::pair<double, double> overSeeds(const std::string& directory, const std::string& algorithm,
                                    const std::function<double(const std::vector<nlohmann::json>&)>& read) {
  std::vector<double> values;
  for (int seed : {5, 6})
    values.push_back(read(lines(fs::path(directory) / fmt::format("{}-seed{}", algorithm, seed) / "rounds.jsonl")));
  const double mean = (values[0] + values[1]) / 2;
  return {mean, std::sqrt(std::pow(values[0] - mean, 2) + std::pow(values[1] - mean, 2))};
}

TEST(Compare, TableEqualsTheNumbersInThePerRoundFiles) {
  TempDir dir;
  ComparisonOutcome outcome = runComparison(tinyComparison(dir));
  EXPECT_EQ(outcome.runs_done, 4);
  ASSERT_EQ(outcome.rows.size(), 2u);
  auto g2sFinal = [](const std::vector<nlohmann::json>& rounds) { return rounds.back()["g2s"]["acc"].get<double>(); };
  auto p2lBest = [](const std::vector<nlohmann::json>& rounds) {
    double best = 0;
    for (const auto& r : rounds) best = std::max(best, r["p2l"]["acc"]["mean"].get<double>());
    return best;
  };
  auto p2lWorstFinal = [](const std::vector<nlohmann::json>& rounds) {
    return rounds.back()["p2l"]["acc"]["worst"].get<double>();
  };
  for (const ComparisonRow& row : outcome.rows) {
    EXPECT_EQ(row.seeds, 2);
    EXPECT_EQ(row.final_round, 4);
    auto [g2s_mean, g2s_std] = overSeeds(outcome.directory, row.algorithm, g2sFinal);
    EXPECT_NEAR(row.g2s_final.mean, g2s_mean, 1e-12) << row.algorithm;
    EXPECT_NEAR(row.g2s_final.std, g2s_std, 1e-12) << row.algorithm;
    EXPECT_NEAR(row.p2l_best.mean, overSeeds(outcome.directory, row.algorithm, p2lBest).first, 1e-12);
    EXPECT_NEAR(row.p2l_worst_final.mean, overSeeds(outcome.directory, row.algorithm, p2lWorstFinal).first, 1e-12);
  }
  const std::string markdown = testing::readFile(outcome.directory + "/summary.md");
  EXPECT_NE(markdown.find("G->S acc, final round"), std::string::npos);
  EXPECT_NE(markdown.find("P->L acc (client mean), best round"), std::string::npos);
  EXPECT_NE(markdown.find(fmt::format("{:.2f}", 100 * outcome.rows[0].g2s_final.mean)), std::string::npos);
  EXPECT_TRUE(fs::is_regular_file(outcome.directory + "/summary.csv"));
}

TEST(Compare, EveryRunSharesOnePartition) {
  TempDir dir;
  ComparisonOutcome outcome = runComparison(tinyComparison(dir));
  auto sizes = [&](const std::string& run) {
    std::vector<std::pair<int, int>> out;
    for (const auto& client : lines(fs::path(outcome.directory) / run / "clients.jsonl"))
      if (client["round"] == 1) out.emplace_back(client["train_size"].get<int>(), client["test_size"].get<int>());
    return out;
  };
  const auto reference = sizes("fedavg-seed5");
  for (const char* run : {"ditto-seed5", "fedavg-seed6", "ditto-seed6"}) EXPECT_EQ(sizes(run), reference) << run;
}

TEST(Compare, InterruptedComparisonRedoesOnlyUnfinishedRuns) {
  TempDir dir;
  const CompareOptions options = tinyComparison(dir);
  ComparisonOutcome first = runComparison(options);
  const fs::path dir_done = fs::path(first.directory) / "fedavg-seed5";
  const fs::path dir_cut = fs::path(first.directory) / "ditto-seed6";
  const auto untouched = fs::last_write_time(dir_done / "rounds.jsonl");
  fs::remove(dir_cut / "summary.json");  // as if the process died before the run finished

  ComparisonOutcome second = runComparison(options);
  EXPECT_EQ(second.runs_done, 1);
  EXPECT_EQ(second.runs_reused, 3);
  EXPECT_EQ(fs::last_write_time(dir_done / "rounds.jsonl"), untouched);
  EXPECT_TRUE(fs::is_regular_file(dir_cut / "summary.json"));
  EXPECT_FALSE(fs::exists(fs::path(first.directory) / "ditto-seed6-2"));  // redone in place
  // The redone run is the same run: the same seed gives the same numbers.
  EXPECT_EQ(second.rows[1].p2l_final.mean, first.rows[1].p2l_final.mean);
  EXPECT_EQ(second.rows[1].g2s_best.std, first.rows[1].g2s_best.std);
}

TEST(Compare, BadAlgorithmNamesFailBeforeAnyRun) {
  TempDir dir;
  CompareOptions options = tinyComparison(dir);
  EXPECT_NE(testing::errorOf([&] { algorithmVariants({"fedavg", "fedsgd"}); }).find("unknown algorithm 'fedsgd'"),
            std::string::npos);
  options.variants.push_back({"bad", {"algorithm.name=ditto", "algorithm.ditto_lambda=-1"}});
  EXPECT_NE(testing::errorOf([&] { runComparison(options); }).find("ditto_lambda"), std::string::npos);
  EXPECT_FALSE(fs::exists(fs::path(options.output_dir) / "fedavg-seed5"));
}

// Opens the report in headless Chromium: the page's own check must find data in every chart (its
// script setting the marker also proves the script ran without errors), and a screenshot is taken.
TEST(Compare, ReportOpensInChromiumWithDataInEveryChart) {
  TempDir dir;
  CompareOptions options = tinyComparison(dir);
  options.variants = algorithmVariants({"page", "fedavg"});
  options.seeds = 1;
  options.overrides.push_back("page.warmup_rounds=2");
  ComparisonOutcome outcome = runComparison(options);
  ASSERT_TRUE(fs::is_regular_file(outcome.report));
  const std::string html = testing::readFile(outcome.report);
  EXPECT_EQ(html.find("<?xml"), std::string::npos);  // SVGs are inlined, not referenced
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  for (const char* chart : {"Trade-off", "G-&gt;S: global model", "P-&gt;L per client", "learning rate each client", "local epochs",
                            "aggregation weight", "Partition"})
    EXPECT_NE(html.find(chart), std::string::npos) << chart;

  const std::string chromium = "chromium --headless --no-sandbox --disable-gpu --window-size=1400,3000";
  std::string dom;
  ASSERT_EQ(testing::runCommand(fmt::format("{} --dump-dom 'file://{}' 2>/dev/null", chromium, outcome.report), dom), 0)
      << "headless Chromium did not run; install it with scripts/setup.sh";
  EXPECT_NE(dom.find("data-charts=\"8\" data-charts-drawn=\"8\""), std::string::npos) << dom.substr(0, 2000);
  std::string log;
  const std::string shot = dir.file("report.png");
  ASSERT_EQ(testing::runCommand(fmt::format("{} --screenshot='{}' 'file://{}'", chromium, shot, outcome.report), log), 0);
  EXPECT_GT(fs::file_size(shot), 10000u);
}

TEST(Compare, RecoveryCountsRoundsUntilTheStreamRegainsItsPreShiftValue) {
  const std::vector<std::pair<std::int64_t, double>> series = {{2, 0.5}, {4, 0.6}, {6, 0.4}, {8, 0.55}, {10, 0.61}};
  EXPECT_EQ(roundsToRecover(series, 5), 5.0);  // last value before round 5 is 0.6, regained at round 10
  EXPECT_EQ(roundsToRecover(series, 4), 0.0);  // before round 4: 0.5; round 4 itself is already at 0.6
  EXPECT_TRUE(std::isnan(roundsToRecover(series, 1)));  // nothing before the shift
  EXPECT_TRUE(std::isnan(roundsToRecover({{1, 0.9}, {2, 0.1}}, 2)));  // never recovers
}

TEST(Sweep, VariantsCoverRatiosAblationsAndBaselines) {
  auto variants = sweepVariants({"5:1", "1:2"}, {}, true, {"fedavg"});
  std::vector<std::string> names;
  for (const auto& v : variants) names.push_back(v.name);
  EXPECT_EQ(names, (std::vector<std::string>{"page-c5s1", "page-c1s2", "page-fixed-lr", "page-fixed-epochs",
                                             "page-uniform-weights", "fedavg"}));
  EXPECT_EQ(variants[0].overrides, (std::vector<std::string>{"algorithm.name=page", "page.client_reward_weight=5",
                                                             "page.server_reward_weight=1"}));
  EXPECT_NE(testing::errorOf([] { sweepVariants({"5-1"}, {}, false, {}); }).find("'5-1' is not client:server"),
            std::string::npos);
  const auto balanced = sweepVariants({}, {"0", "0.25"}, false, {});
  ASSERT_EQ(balanced.size(), 2u);
  EXPECT_EQ(sweepVariants({}, {"0", "0.25"}, false, {"none"}).size(), 2u) << "'none' asks for PAGE alone";
  EXPECT_EQ(balanced[1].name, "page-b0.25");
  EXPECT_EQ(balanced[1].overrides, (std::vector<std::string>{"algorithm.name=page", "page.balance=0.25"}));
  for (const char* bad : {"1.5", "-0.1", "half", "0.5x", ""})
    EXPECT_NE(testing::errorOf([bad] { sweepVariants({}, {bad}, false, {}); }).find("--balance"), std::string::npos)
        << bad;

  // A small sweep runs and puts every variant in the table.
  TempDir dir;
  CompareOptions options = tinyComparison(dir);
  options.variants = sweepVariants({"3:1"}, {"1", "0"}, false, {"fedavg"});
  options.seeds = 1;
  options.overrides.push_back("page.warmup_rounds=2");
  ComparisonOutcome outcome = runComparison(options);
  ASSERT_EQ(outcome.rows.size(), 4u);
  EXPECT_EQ(outcome.rows[0].algorithm, "page-b1");
  EXPECT_EQ(outcome.rows[2].algorithm, "page-c3s1");
  const fs::path report = fs::path(outcome.directory) / "report";
  EXPECT_TRUE(fs::is_regular_file(report / "tradeoff.svg"));
  // The balance sweep is one curve, in order of balance.
  const std::string curve = testing::readFile(report / "tradeoff-balance.dat");
  EXPECT_LT(curve.find("page-b0\n"), curve.find("page-b1\n")) << curve;
}

}  // namespace
}  // namespace pagefl
