// Stacked client training against trainSgd, one client at a time: the same parameters, losses and
// data orders up to float rounding, whatever mix of data sizes, learning rates, epochs, clipping,
// weight decay and proximal terms the clients have; and in the simulator, the same run for any
// worker count, accuracies equal to the per-client path, and a clear refusal where it cannot run.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "pagefl/core/error.h"
#include "pagefl/nn/stacked_scoring.h"
#include "pagefl/nn/stacked_sgd.h"
#include "pagefl/fl/local_sgd_client.h"
#include "test_support.h"

namespace pagefl {
namespace {

using testing::errorOf;
using testing::simulate;
using testing::simulateWithOneAndTwoWorkers;
using testing::TempDir;

// Stacked parameters agree with trainSgd's to this (absolute, on weights of order 0.1-1): the
// batched products and the fused decay sum in another order, a few float roundings per step.
constexpr double kParameterTolerance = 2e-5;

struct ClientCase {
  std::int64_t samples;
  double lr;
  std::int64_t epochs;
  double clip, decay, mu;
  std::int64_t batch = 5;
};

void expectStackedMatchesOneAtATime(const ModelSpec& spec, const std::vector<ClientCase>& cases) {
  torch::manual_seed(11);
  FlatModel model(makeNetwork(spec));
  const torch::Tensor start = torch::randn({model.layout().size()}) * 0.3;
  const torch::Tensor centre = start + torch::randn({model.layout().size()}) * 0.1;
  const std::int64_t features = spec.sample_shape.front();

  std::vector<StackedSgdJob> jobs;
  std::vector<std::mt19937_64> stacked_rngs, single_rngs;
  std::vector<Dataset> data;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    data.push_back({torch::randn({cases[i].samples, features}), torch::randint(spec.num_classes, {cases[i].samples}, torch::kInt64)});
    stacked_rngs.emplace_back(100 + i);
    single_rngs.emplace_back(100 + i);
  }
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const ClientCase& c = cases[i];
    SgdOptions sgd{.lr = c.lr, .weight_decay = c.decay, .clip_norm = c.clip, .epochs = c.epochs, .batch_size = c.batch};
    jobs.push_back({data[i], start, sgd, &stacked_rngs[i], c.mu, centre});
  }
  const std::vector<StackedSgdResult> stacked = trainStacked(model.layout(), jobs);

  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(fmt::format("client {} ({} samples, {} epochs)", i, cases[i].samples, cases[i].epochs));
    model.load(start);
    const TrainStats single = trainSgd(model, data[i], jobs[i].sgd, single_rngs[i], proximalHook(cases[i].mu, centre));
    EXPECT_EQ(stacked[i].stats.steps, single.steps);
    EXPECT_EQ(stacked[i].stats.samples, single.samples);
    EXPECT_NEAR(stacked[i].stats.mean_loss, single.mean_loss, 1e-5 * std::max(1.0, single.mean_loss));
    EXPECT_LT((stacked[i].params - model.params()).abs().max().item<double>(), kParameterTolerance);
    // Both drew the same data orders: the generators end in the same state.
    EXPECT_EQ(stacked_rngs[i](), single_rngs[i]());
  }
}

TEST(StackedSgd, LogisticRegressionMatchesTrainSgdClientByClient) {
  expectStackedMatchesOneAtATime({"logreg", {6}, 4, {}}, {{23, 0.05, 3, 10, 1e-5, 0},
                                                          {210, 0.1, 20, 10, 1e-5, 0},  // Synthetic's longest job
                                                          {40, 0.1, 1, 0, 0, 0},        // no clipping, no decay
                                                          {7, 0.02, 5, 0.05, 1e-3, 0},  // clipped every step
                                                          {0, 0.05, 2, 10, 0, 0},       // no data: unchanged
                                                          {12, 0.05, 0, 10, 0, 0},      // no epochs: unchanged
                                                          {31, 0.08, 2, 10, 1e-4, 0.5, 8}});  // FedProx, batch 8
}

TEST(StackedSgd, MlpMatchesTrainSgdClientByClient) {
  expectStackedMatchesOneAtATime({"mlp", {5}, 3, {7, 4}}, {{19, 0.05, 2, 10, 1e-5, 0},
                                                           {33, 0.03, 4, 0.1, 0, 0},
                                                           {6, 0.1, 1, 0, 1e-3, 0.2},
                                                           {50, 0.05, 3, 10, 0, 0}});
}

TEST(StackedSgd, RefusesWhatItCannotTrain) {
  EXPECT_TRUE(whyNotStackable(ModelSpec{"cnn", {1, 28, 28}, 10, {}}).has_value());
  EXPECT_FALSE(whyNotStackable(ModelSpec{"mlp", {5}, 3, {4}}).has_value());
  EXPECT_TRUE(whyNotStackable(SgdOptions{.momentum = 0.9}).has_value());
  FlatModel cnn(makeNetwork({"cnn", {1, 28, 28}, 10, {}}));
  std::mt19937_64 rng(1);
  std::vector<StackedSgdJob> jobs{{Dataset{torch::zeros({2, 1, 28, 28}), torch::zeros({2}, torch::kInt64)},
                                   cnn.snapshot(), SgdOptions{}, &rng, 0.0, {}}};
  EXPECT_NE(errorOf([&] { trainStacked(cnn.layout(), jobs); }).find("fully connected"), std::string::npos);
}

TEST(StackedScoring, MatchesEvaluateModelByModel) {
  for (const ModelSpec& spec : {ModelSpec{"logreg", {6}, 4, {}}, ModelSpec{"mlp", {6}, 4, {9, 5}}}) {
    SCOPED_TRACE(spec.name);
    torch::manual_seed(3);
    FlatModel model(makeNetwork(spec));
    const Dataset data{torch::randn({1100, 6}), torch::randint(4, {1100}, torch::kInt64)};  // several chunks
    std::vector<torch::Tensor> params;
    for (int m = 0; m < 5; ++m) params.push_back(torch::randn({model.layout().size()}));
    const std::vector<EvalResult> stacked = evaluateStacked(model.layout(), params, data, 1000);
    for (std::size_t m = 0; m < params.size(); ++m) {
      model.load(params[m]);
      const EvalResult single = evaluate(model, data, 1000);
      EXPECT_EQ(stacked[m].samples, single.samples);
      EXPECT_NEAR(stacked[m].correct, single.correct, 1);  // a tie or a boundary sample at most
      EXPECT_NEAR(stacked[m].loss_sum, single.loss_sum, 1e-4 * single.loss_sum);
    }
  }
}

std::vector<std::string> smallSynthetic(const std::string& algorithm) {
  return {"data.source=synthetic", "partition.scheme=natural", "synthetic.num_clients=12",
          "synthetic.samples_per_client=90", "model.name=mlp", "model.hidden=[8]", "train.lr=0.05",
          "train.batch_size=5", "train.clip_norm=10", "train.weight_decay=1e-5", "run.rounds=4",
          "algorithm.participation=0.75", "page.warmup_rounds=2", "page.epoch_max=4",
          "run.batched_clients=on", "algorithm.name=" + algorithm};
}

TEST(StackedClients, RunsAreByteIdenticalForOneAndTwoWorkers) {
  TempDir dir;
  for (const char* algorithm : {"fedavg", "fedprox", "page", "dapfl", "fedbabu", "ditto", "fedala"}) {
    auto [a, b] = simulateWithOneAndTwoWorkers(dir, smallSynthetic(algorithm));
    EXPECT_FALSE(a.rounds_text.empty());
    EXPECT_EQ(a.rounds_text, b.rounds_text) << algorithm;
    EXPECT_EQ(a.clients_text, b.clients_text) << algorithm;
  }
}

TEST(StackedClients, ForcedOnRefusesWhatItCannotServeNamingWhy) {
  TempDir dir;
  auto scaffold = smallSynthetic("scaffold");
  const std::string refused = errorOf([&] { simulate(dir, scaffold); });
  EXPECT_NE(refused.find("run.batched_clients = \"on\""), std::string::npos) << refused;
  EXPECT_NE(refused.find("scaffold"), std::string::npos) << refused;
  auto momentum = smallSynthetic("fedavg");
  momentum.push_back("train.momentum=0.9");
  EXPECT_NE(errorOf([&] { simulate(dir, momentum); }).find("train.momentum"), std::string::npos);
}

// Ditto trains two models per client (its personal model as a side training) and FedALA trains
// from its blend: stacked, each agrees with its one-client-at-a-time run to float rounding, so
// over a few rounds every accuracy stays within a test sample or so of the per-client path.
// FedALA also on logistic regression, where it adapts the whole (one-module) model.
TEST(StackedClients, DittoAndFedAlaTrackThePerClientPath) {
  TempDir dir;
  for (const auto& [algorithm, model] : {std::pair{"ditto", "mlp"}, {"fedala", "mlp"}, {"fedala", "logreg"}}) {
    SCOPED_TRACE(fmt::format("{} on {}", algorithm, model));
    auto stacked_setup = smallSynthetic(algorithm);
    stacked_setup.push_back(fmt::format("model.name={}", model));
    auto single_setup = stacked_setup;
    single_setup.push_back("run.batched_clients=off");
    const auto stacked = simulate(dir, stacked_setup), single = simulate(dir, single_setup);
    ASSERT_EQ(stacked.rounds.size(), 4u);
    ASSERT_EQ(single.rounds.size(), 4u);
    for (std::size_t r = 0; r < stacked.rounds.size(); ++r) {
      for (const char* stream : {"g2l", "p2l"}) {
        const double a = stacked.rounds[r][stream]["acc"]["mean"].get<double>();
        const double b = single.rounds[r][stream]["acc"]["mean"].get<double>();
        EXPECT_NEAR(a, b, 0.02) << "round " << r + 1 << ", " << stream;
      }
      EXPECT_NEAR(stacked.rounds[r]["g2s"]["acc"].get<double>(), single.rounds[r]["g2s"]["acc"].get<double>(), 0.02)
          << "round " << r + 1;
    }
    ASSERT_EQ(stacked.clients.size(), single.clients.size());
    for (std::size_t i = 0; i < stacked.clients.size(); ++i) {
      ASSERT_EQ(stacked.clients[i]["client"], single.clients[i]["client"]);
      EXPECT_NEAR(stacked.clients[i]["train_loss"].get<double>(), single.clients[i]["train_loss"].get<double>(), 1e-3)
          << "line " << i + 1;
    }
  }
}

// The published Synthetic setup for 20 rounds, inside the 35-round warm-up so that both paths
// draw the same actions. Each client's training agrees to float rounding (above), but the
// rounding differences are amplified from round to round (lr up to 0.1, up to 20 epochs, 100
// clients averaged), most of all in a client whose training sits on the edge of divergence.
// Measured (2026-12-02): rounds 1-2 identical; afterwards the mean accuracies differ by at most
// 0.22 points, except P->L in round 6 at 0.57: client 63 (lr near 0.1, 20 epochs) ends at 56%
// local accuracy on one path and 10% on the other, and the next rounds are back under 0.2.
// Asserted: every round within 1 point (one such client moves a mean of 100 by up to 1), at most
// two rounds per stream beyond 0.3, and the final round within 0.3.
TEST(StackedClients, PageSyntheticAccuraciesTrackThePerClientPathOver20Rounds) {
  TempDir dir;
  const std::string published = PAGEFL_SOURCE_DIR "/configs/page-synthetic.toml";
  const std::vector<std::string> common = {"run.rounds=20", "run.workers=2"};
  auto stacked_setup = common, single_setup = common;
  stacked_setup.push_back("run.batched_clients=on");
  single_setup.push_back("run.batched_clients=off");
  const auto stacked = simulate(dir, stacked_setup, published), single = simulate(dir, single_setup, published);
  ASSERT_EQ(stacked.rounds.size(), 20u);
  const auto accuracies = [](const nlohmann::json& round) {
    return std::vector<double>{round["g2s"]["acc"].get<double>(), round["g2l"]["acc"]["mean"].get<double>(),
                               round["p2l"]["acc"]["mean"].get<double>()};
  };
  std::vector<int> beyond_three_tenths(3, 0);
  for (std::size_t r = 0; r < stacked.rounds.size(); ++r) {
    const auto a = accuracies(stacked.rounds[r]), b = accuracies(single.rounds[r]);
    for (std::size_t s = 0; s < a.size(); ++s) {
      const double limit = r < 2 ? 1e-12 : r + 1 == stacked.rounds.size() ? 3e-3 : 1e-2;
      EXPECT_NEAR(a[s], b[s], limit) << "round " << r + 1 << ", stream " << s;
      if (std::abs(a[s] - b[s]) > 3e-3) ++beyond_three_tenths[s];
    }
  }
  for (std::size_t s = 0; s < beyond_three_tenths.size(); ++s) EXPECT_LE(beyond_three_tenths[s], 2) << "stream " << s;
}

}  // namespace
}  // namespace pagefl
