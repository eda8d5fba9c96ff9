// Server-side scoring of a CNN upload (PAGE scores every upload on the server test set each
// round): samples per second of pagefl's evaluate() at several evaluation batch sizes, one thread.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "pagefl/nn/flat_model.h"
#include "pagefl/nn/local_training.h"

namespace pagefl {
namespace {

// Arguments: the evaluation batch, and whether the images are laid out channels-last.
void CnnScoring(benchmark::State& state) {
  const std::int64_t batch = state.range(0), samples = 2000;
  torch::manual_seed(5);
  torch::Tensor images = torch::rand({samples, 1, 28, 28});
  if (state.range(1)) images = images.contiguous(torch::MemoryFormat::ChannelsLast);
  const Dataset test{images, torch::randint(10, {samples}, torch::kInt64)};
  FlatModel model(makeNetwork({"cnn", {1, 28, 28}, 10, {}}));
  for (auto _ : state) benchmark::DoNotOptimize(evaluate(model, test, batch));
  state.counters["samples_per_s"] =
      benchmark::Counter(static_cast<double>(samples) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK(CnnScoring)->ArgsProduct({{16, 32, 64, 128, 256, 1000}, {0}})->Args({32, 1})->ArgNames({"batch", "channels_last"})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace pagefl
