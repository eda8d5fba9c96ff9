// PAGE on the published Synthetic setup: seconds per round and local training steps per second
// with W = 1 and 2, and the share of a round spent in the agents (RL), in the server's evaluation
// of every upload, and in local training (the rest). Components are timed in the same run. The
// personalised baselines that PAGE is compared with at the paper's horizon (Ditto, FedALA) on the
// same setup, one client at a time against stacked.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "pagefl/core/config.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/engine/worker_pool.h"
#include "pagefl/fl/algorithms/page.h"
#include "pagefl/fl/metric_keys.h"
#include "pagefl/nn/local_training.h"
#include "pagefl/sim/simulator.h"

namespace pagefl {
namespace {

// The published setup, 3 rounds of which the last acts on the policy (warm-up 2), or `rounds`;
// clients trained one at a time or stacked (run.batched_clients).
// `extra` overrides come last.
Config pageSynthetic(std::int64_t workers, bool stacked = false, std::int64_t rounds = 3,
                     const std::vector<std::string>& extra = {}) {
  std::vector<std::string> overrides = {fmt::format("run.rounds={}", rounds), "page.warmup_rounds=2",
                                        "run.progress=false", fmt::format("run.workers={}", workers),
                                        stacked ? "run.batched_clients=on" : "run.batched_clients=off"};
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  return loadConfig(PAGEFL_SOURCE_DIR "/configs/page-synthetic.toml", overrides);
}

const FederatedDataset& syntheticData() {
  static const FederatedDataset data = buildFederatedDataset(pageSynthetic(1));
  return data;
}

// Counts the local SGD steps of a run.
class StepCounter final : public RunObserver {
 public:
  explicit StepCounter(std::int64_t batch) : batch_(batch) {}
  void onRoundClosed(const RoundRecord& record) override {
    for (const ClientRecord& client : record.clients)
      steps +=
          static_cast<std::int64_t>(std::ceil(client.metrics.at(metric::kTrainSamples) / static_cast<double>(batch_)));
  }
  std::int64_t steps = 0;

 private:
  std::int64_t batch_;
};

void PageSyntheticRound(benchmark::State& state) {
  // 8 rounds, 6 of them on the policy: the first rounds' random actions are not typical of a run.
  const Config config = pageSynthetic(state.range(0), state.range(1) != 0, 8);
  std::int64_t rounds = 0, steps = 0;
  for (auto _ : state) {
    StepCounter counter(config.train.batch_size);
    Simulator(config, syntheticData()).run({&counter});
    rounds += config.run.rounds;
    steps += counter.steps;
  }
  state.counters["s_per_round"] =
      benchmark::Counter(static_cast<double>(rounds), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["train_steps_per_s"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
}

// Ditto (0) or FedALA (1) on the same setup at the middle of PAGE's action ranges (lr 0.05, 10
// epochs), 4 rounds (FedALA's first blend, which learns until its loss settles, is in round 2).
void PersonalisedSyntheticRound(benchmark::State& state) {
  const char* algorithm = state.range(0) == 0 ? "ditto" : "fedala";
  const Config config =
      pageSynthetic(state.range(1), state.range(2) != 0, 4,
                    {fmt::format("algorithm.name={}", algorithm), "train.lr=0.05", "train.epochs=10"});
  std::int64_t rounds = 0;
  for (auto _ : state) {
    Simulator(config, syntheticData()).run({});
    rounds += config.run.rounds;
  }
  state.SetLabel(algorithm);
  state.counters["s_per_round"] =
      benchmark::Counter(static_cast<double>(rounds), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// What the server's agent needs every round: the 100 uploads scored on the server test set.
void ServerEvaluationOf100Uploads(benchmark::State& state) {
  const FederatedDataset& data = syntheticData();
  const ModelSpec spec{"logreg", data.sampleShape(), data.num_classes, {}};
  WorkerPool pool(state.range(0), [&] { return std::make_unique<FlatModel>(makeNetwork(spec)); });
  std::vector<torch::Tensor> uploads;
  for (int i = 0; i < 100; ++i) uploads.push_back(torch::randn({pool.replica(0).layout().size()}) * 0.1);
  for (auto _ : state) {
    std::vector<EvalResult> results(uploads.size());
    pool.forEach(100, [&](std::int64_t i, FlatModel& model) {
      model.load(uploads[i]);
      results[i] = evaluate(model, data.server_test, pageSynthetic(1).eval.batch_size);
    });
    benchmark::DoNotOptimize(results);
  }
}

// What the agents cost every round: 100 client agents and the server agent each act once and
// take `updates` DDPG updates (page.agent_updates), past warm-up with a full minibatch in replay.
void AgentsActAndUpdate(benchmark::State& state) {
  PageConfig page;
  page.agent_updates = state.range(0);
  std::vector<std::unique_ptr<rl::DdpgAgent>> agents;
  for (int i = 0; i <= 100; ++i) {
    const std::int64_t dim = i == 100 ? 100 : 1;
    auto options = page::agentOptions(page, dim, i == 100 ? 100 : 2);
    options.warmup = 0;
    agents.push_back(std::make_unique<rl::DdpgAgent>(options, at::make_generator<at::CPUGeneratorImpl>(i)));
    for (int t = 0; t < 40; ++t)
      agents.back()->remember(torch::rand({dim}), torch::rand({options.action_dim}), 1.0, torch::rand({dim}));
  }
  std::mt19937_64 rng(1);
  auto none = [](std::mt19937_64&) { return torch::Tensor(); };
  for (auto _ : state) {
    for (auto& agent : agents) {
      const std::int64_t dim = agent->options().state_dim;
      benchmark::DoNotOptimize(agent->act(torch::rand({dim}), rng, none));
      agent->update(rng);
    }
  }
}

BENCHMARK(PageSyntheticRound)->ArgsProduct({{1, 2}, {0, 1}})->ArgNames({"W", "stacked"})->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(PersonalisedSyntheticRound)
    ->ArgsProduct({{0, 1}, {1, 2}, {0, 1}})
    ->ArgNames({"fedala", "W", "stacked"})
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK(ServerEvaluationOf100Uploads)->Arg(1)->Arg(2)->ArgName("W")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(AgentsActAndUpdate)->Arg(1)->Arg(10)->ArgName("updates")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace pagefl
