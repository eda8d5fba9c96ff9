// Server-side scoring of a CNN upload (PAGE scores every upload on the server test set each
// round): samples per second of pagefl's evaluate() at several evaluation batch sizes, one thread.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "pagefl/nn/flat_model.h"
#include "pagefl/nn/local_training.h"

namespace pagefl {
namespace {

void CnnScoring(benchmark::State& state) {
  const std::int64_t batch = state.range(0), samples = 2000;
  torch::manual_seed(5);
  const Dataset test{torch::rand({samples, 1, 28, 28}), torch::randint(10, {samples}, torch::kInt64)};
  FlatModel model(makeNetwork({"cnn", {1, 28, 28}, 10, {}}));
  for (auto _ : state) benchmark::DoNotOptimize(evaluate(model, test, batch));
  state.counters["samples_per_s"] =
      benchmark::Counter(static_cast<double>(samples) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK(CnnScoring)->Arg(16)->Arg(32)->Arg(64)->Arg(128)->Arg(256)->Arg(1000)->ArgName("batch")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace pagefl
