// Simulator throughput on the Fashion-MNIST CNN against a plain single-threaded LibTorch training
// loop over the same data and model, measured in one run so their ratio is meaningful on a noisy
// machine. Prints the ratios after the Google Benchmark table.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <map>

#include "pagefl/core/config.h"
#include "pagefl/core/runtime.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/nn/local_training.h"
#include "pagefl/sim/simulator.h"

namespace pagefl {
namespace {

// 20 clients holding 8,000 Fashion-MNIST training images, all used for training (no local test),
// so the simulator and the raw loop do exactly the same number of sample-gradients.
Config throughputConfig(std::int64_t workers) {
  return parseConfig("", {"data.train_subset=8000", "data.test_subset=2000", "partition.scheme=iid",
                          "partition.num_clients=20", "partition.train_fraction=1.0", "model.name=cnn",
                          "train.lr=0.02", "train.batch_size=32", "run.rounds=1", "eval.every=0",
                          "run.progress=false", fmt::format("run.workers={}", workers)});
}

const FederatedDataset& fashionMnist() {
  static const FederatedDataset data = buildFederatedDataset(throughputConfig(1));
  return data;
}

void RawLibTorchLoop(benchmark::State& state) {
  const FederatedDataset& data = fashionMnist();
  auto net = makeNetwork({"cnn", data.sampleShape(), data.num_classes, {}});
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.02));
  const Dataset& train = data.local;
  const std::int64_t n = train.size();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1);
  std::int64_t samples = 0;
  for (auto _ : state) {
    auto order = torch::randperm(n, generator, torch::kInt64);
    for (std::int64_t begin = 0; begin < n; begin += 32) {
      auto batch = order.slice(0, begin, std::min(begin + 32, n));
      optimizer.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(net->forward(train.x.index_select(0, batch)),
                                                       train.y.index_select(0, batch));
      loss.backward();
      optimizer.step();
      benchmark::DoNotOptimize(loss.item<float>());
    }
    samples += n;
  }
  state.counters["samples_per_s"] = benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}

void SimulatorFedAvg(benchmark::State& state) {
  const Config config = throughputConfig(state.range(0));
  const FederatedDataset& data = fashionMnist();
  std::int64_t samples = 0;
  for (auto _ : state) {
    Simulator(config, data).run({});
    samples += data.local.size();
  }
  state.counters["samples_per_s"] = benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}

// One FedAvg round with 20 clients on all of Fashion-MNIST (Dirichlet 0.5), evaluation included:
// what a user waits for per round in the demo setup.
void FedAvgRound20Clients(benchmark::State& state) {
  static const Config config = parseConfig(
      "", {"partition.num_clients=20", "run.rounds=1", "run.workers=2", "run.progress=false", "eval.every=1"});
  static const FederatedDataset data = buildFederatedDataset(config);
  for (auto _ : state) Simulator(config, data).run({});
}

BENCHMARK(RawLibTorchLoop)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5.0);
BENCHMARK(SimulatorFedAvg)->Arg(1)->Arg(2)->ArgName("W")->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5.0);
BENCHMARK(FedAvgRound20Clients)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(2);

// Keeps each run's samples/s so the ratios can be printed after the table.
class RatioReporter final : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> rates;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs)
      if (auto it = run.counters.find("samples_per_s"); it != run.counters.end())
        rates[run.benchmark_name()] = it->second.value;
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace
}  // namespace pagefl

int main(int argc, char** argv) {
  pagefl::reexecWithBetterBlasCore(argv);
  pagefl::configureSingleThreadedKernels();
  benchmark::Initialize(&argc, argv);
  pagefl::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const auto& r = reporter.rates;
  auto rate = [&](const std::string& prefix) {
    for (const auto& [name, value] : r)
      if (name.rfind(prefix, 0) == 0) return value;
    return 0.0;
  };
  if (const double raw = rate("RawLibTorchLoop/"); raw > 0)
    for (const char* workers : {"1", "2"})
      fmt::print("simulator with W={} / raw loop = {:.3f}\n", workers, rate(std::string("SimulatorFedAvg/W:") + workers + "/") / raw);
  benchmark::Shutdown();
  return 0;
}
