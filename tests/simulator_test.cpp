// The simulation engine: determinism across worker counts, participation, learning, run files.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <set>

#include "pagefl/core/config.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/engine/round_engine.h"
#include "pagefl/sim/simulator.h"
#include "test_support.h"

namespace pagefl {
namespace {

using testing::TempDir;

using testing::simulate;
using testing::simulateWithOneAndTwoWorkers;

std::vector<std::string> syntheticSetup(const std::string& algorithm) {
  return {"data.source=synthetic", "partition.scheme=natural", "synthetic.num_clients=10",
          "synthetic.samples_per_client=120", "model.name=logreg", "train.lr=0.05", "train.batch_size=8",
          "run.rounds=4", "algorithm.participation=0.6", "algorithm.name=" + algorithm,
          "eval.personal_on_server=true"};
}

class SimulatorDeterminism : public ::testing::TestWithParam<std::string> {};

TEST_P(SimulatorDeterminism, OneAndTwoWorkersWriteIdenticalMetricsFiles) {
  TempDir dir;
  auto [a, b] = simulateWithOneAndTwoWorkers(dir, syntheticSetup(GetParam()));
  EXPECT_FALSE(a.rounds_text.empty());
  EXPECT_EQ(a.rounds_text, b.rounds_text);
  EXPECT_EQ(a.clients_text, b.clients_text);
  EXPECT_NE(a.directory, b.directory);  // the second run did not overwrite the first
}

INSTANTIATE_TEST_SUITE_P(Algorithms, SimulatorDeterminism,
                         ::testing::Values("fedavg", "fedprox", "local", "fedavg-ft"));

TEST(Simulator, CnnRunsAreIdenticalAcrossWorkerCounts) {
  TempDir dir;
  testing::writeMnistLikeDataset(dir.file("mnist"), 240, 60, true);
  std::vector<std::string> setup = {"data.source=mnist", fmt::format("data.path=\"{}\"", dir.file("mnist")),
                                    "partition.num_clients=4", "partition.min_size=5", "run.rounds=2"};
  auto [a, b] = simulateWithOneAndTwoWorkers(dir, setup);
  EXPECT_EQ(a.rounds_text, b.rounds_text);
  EXPECT_EQ(a.clients_text, b.clients_text);
}

TEST(Simulator, FoldedRoundsOfManyClientsAreIdenticalAcrossWorkerCounts) {
  // 150 clients: FedAvg folds their uploads in three chunks; Ditto shares FedAvg's server.
  TempDir dir;
  for (const char* algorithm : {"fedavg", "ditto"}) {
    auto setup = syntheticSetup(algorithm);
    setup.insert(setup.end(), {"synthetic.num_clients=150", "synthetic.samples_per_client=20", "run.rounds=2",
                               "algorithm.participation=1.0"});
    auto [a, b] = simulateWithOneAndTwoWorkers(dir, setup);
    EXPECT_EQ(a.rounds_text, b.rounds_text) << algorithm;
    EXPECT_EQ(a.clients_text, b.clients_text) << algorithm;
    EXPECT_EQ(a.rounds.back()["participants"].get<int>(), 150);
  }
}

TEST(Simulator, NewClientsNeverTrainAndAreScoredAsTheyAreAndAfterLocalSteps) {
  TempDir dir;
  auto setup = syntheticSetup("fedavg");
  setup.insert(setup.end(), {"eval.new_clients=0.2", "algorithm.participation=1.0", "run.rounds=3"});
  auto [a, b] = simulateWithOneAndTwoWorkers(dir, setup);
  EXPECT_EQ(a.rounds_text, b.rounds_text);
  for (const auto& client : a.clients) {  // clients 4 and 9 of 10 are the new ones
    EXPECT_NE(client["client"].get<int>(), 4);
    EXPECT_NE(client["client"].get<int>(), 9);
  }
  for (const auto& round : a.rounds) {
    EXPECT_EQ(round["participants"].get<int>(), 8);
    ASSERT_TRUE(round.contains("g2n") && round.contains("ft2n"));
    EXPECT_NE(round["g2n"]["acc"]["mean"], round["ft2n"]["acc"]["mean"]);  // the local steps changed the model
  }
  auto summary = nlohmann::json::parse(a.summary_text);
  EXPECT_TRUE(summary["streams"].contains("ft2n_acc_mean"));

  // With no local steps, FT->N is G->N.
  setup.push_back("eval.new_client_steps=0");
  auto none = simulate(dir, setup);
  EXPECT_EQ(none.rounds.back()["g2n"], none.rounds.back()["ft2n"]);
}

TEST(Simulator, LateClientsJoinAtTheirRound) {
  TempDir dir;
  auto setup = syntheticSetup("fedavg");
  setup.insert(setup.end(), {"partition.late_clients=0.3", "partition.late_join_round=3", "algorithm.participation=1.0"});
  auto [a, b] = simulateWithOneAndTwoWorkers(dir, setup);
  EXPECT_EQ(a.clients_text, b.clients_text);
  for (const auto& round : a.rounds)
    EXPECT_EQ(round["participants"].get<int>(), round["round"].get<int>() < 3 ? 7 : 10);
  // The three late clients bring the upper half of the labels: none of them trains before round 3.
  std::set<int> late;
  for (const auto& client : a.clients)
    if (client["round"].get<int>() == 3) late.insert(client["client"].get<int>());
  for (const auto& client : a.clients) {
    if (client["round"].get<int>() < 3) {
      late.erase(client["client"].get<int>());
    }
  }
  EXPECT_EQ(late.size(), 3u);
}

TEST(Simulator, ParticipationSamplesTheRequestedShareDeterministically) {
  RngStreams streams(3);
  auto a = sampleParticipants(streams, 5, 100, 0.1);
  EXPECT_EQ(a.size(), 10u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(a, sampleParticipants(streams, 5, 100, 0.1));
  EXPECT_NE(a, sampleParticipants(streams, 6, 100, 0.1));
  EXPECT_EQ(sampleParticipants(streams, 1, 100, 0.001).size(), 1u);
  EXPECT_EQ(sampleParticipants(streams, 1, 7, 1.0).size(), 7u);
}

TEST(Simulator, FedAvgLearnsTheSyntheticTaskAndWritesTheStreams) {
  TempDir dir;
  auto setup = syntheticSetup("fedavg");
  setup.push_back("run.rounds=15");
  setup.push_back("algorithm.participation=1.0");
  auto run = simulate(dir, setup);
  auto summary = nlohmann::json::parse(run.summary_text);
  const auto& streams = summary["streams"];
  for (const char* series : {"g2s_acc", "g2l_acc_mean", "p2l_acc_mean", "p2s_acc_mean", "p2l_acc_worst"})
    ASSERT_TRUE(streams.contains(series)) << series;
  EXPECT_GT(streams["g2s_acc"]["best"].get<double>(), 0.3);  // chance is 1/30
  EXPECT_GE(streams["g2s_acc"]["best"].get<double>(), streams["g2s_acc"]["final"].get<double>());
  EXPECT_EQ(streams["g2s_acc"]["final_round"].get<int>(), 15);

  // Every round line has G->S and the client aggregates of each stream.
  int count = 0;
  for (const auto& round : run.rounds) {
    EXPECT_EQ(round["participants"].get<int>(), 10);
    for (const char* key : {"g2s", "g2l", "p2l", "p2s"}) EXPECT_TRUE(round.contains(key)) << key;
    for (const char* key : {"mean", "weighted_mean", "std", "worst", "p10"}) EXPECT_TRUE(round["p2l"]["acc"].contains(key));
    ++count;
  }
  EXPECT_EQ(count, 15);
}

TEST(Simulator, LocalOnlyNeverChangesTheGlobalModel) {
  TempDir dir;
  auto setup = syntheticSetup("local");
  setup.push_back("run.rounds=3");
  auto run = simulate(dir, setup);
  auto summary = nlohmann::json::parse(run.summary_text);
  const auto& g2s = summary["streams"]["g2s_acc"];
  ASSERT_EQ(run.rounds.size(), 3u);
  for (const auto& round : run.rounds) EXPECT_EQ(round["g2s"], run.rounds.front()["g2s"]);  // same model every round
  EXPECT_GT(summary["streams"]["p2l_acc_mean"]["final"].get<double>(), g2s["final"].get<double>());
}

}  // namespace
}  // namespace pagefl
