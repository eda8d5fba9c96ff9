// Where per-operation overhead dominates: one SGD step of logistic regression 30 -> 30 at batch 5
// (PAGE's Synthetic setup), timed three ways in the same run:
//   - pagefl's trainSgd on one client (LibTorch autograd, one small op after another);
//   - the arithmetic alone: the same step as plain C++ loops, no framework;
//   - 100 clients' steps as one batched tensor operation (bmm), the way to close the gap.
// Each reports `ns_per_client_step`, so the three compare directly.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <random>

#include <thread>

#include "pagefl/nn/local_training.h"
#include "pagefl/nn/models.h"
#include "pagefl/nn/stacked_sgd.h"

namespace pagefl {
namespace {

constexpr std::int64_t kFeatures = 30, kClasses = 30, kBatch = 5, kStepsPerEpoch = 60;
constexpr float kLr = 0.05f;

void reportPerClientStep(benchmark::State& state, std::int64_t client_steps_per_iteration) {
  state.counters["ns_per_client_step"] =
      benchmark::Counter(static_cast<double>(client_steps_per_iteration) * static_cast<double>(state.iterations()) / 1e9,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

Dataset randomClientData(std::int64_t samples) {
  torch::manual_seed(3);
  return {torch::randn({samples, kFeatures}), torch::randint(kClasses, {samples}, torch::kInt64)};
}

void LogregStepPageflTrainSgd(benchmark::State& state) {
  const Dataset data = randomClientData(kBatch * kStepsPerEpoch);
  FlatModel model(makeNetwork({"logreg", {kFeatures}, kClasses, {}}));
  SgdOptions options{.lr = kLr, .weight_decay = 1e-5, .clip_norm = 10.0, .epochs = 1, .batch_size = kBatch};
  std::mt19937_64 rng(1);
  for (auto _ : state) benchmark::DoNotOptimize(trainSgd(model, data, options, rng));
  reportPerClientStep(state, kStepsPerEpoch);
}

// The same step (forward, softmax cross-entropy, gradient, weight decay, clipping, update) with
// nothing but loops: a floor for what the step costs on this CPU.
void LogregStepPlainLoops(benchmark::State& state) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  std::vector<float> x(kBatch * kStepsPerEpoch * kFeatures);
  std::vector<int> y(kBatch * kStepsPerEpoch);
  for (auto& v : x) v = normal(rng);
  for (auto& v : y) v = static_cast<int>(rng() % kClasses);
  std::array<float, kClasses * kFeatures> w{}, gw{};
  std::array<float, kClasses> b{}, gb{};
  std::array<float, kBatch * kClasses> d{};
  for (auto _ : state) {
    for (std::int64_t step = 0; step < kStepsPerEpoch; ++step) {
      const float* xb = x.data() + step * kBatch * kFeatures;
      for (std::int64_t s = 0; s < kBatch; ++s) {
        float* row = d.data() + s * kClasses;
        float top = -INFINITY, total = 0.0f;
        for (std::int64_t k = 0; k < kClasses; ++k) {
          float z = b[k];
          for (std::int64_t j = 0; j < kFeatures; ++j) z += w[k * kFeatures + j] * xb[s * kFeatures + j];
          row[k] = z;
          top = std::max(top, z);
        }
        for (std::int64_t k = 0; k < kClasses; ++k) total += row[k] = std::exp(row[k] - top);
        for (std::int64_t k = 0; k < kClasses; ++k) row[k] /= total * kBatch;
        row[y[step * kBatch + s]] -= 1.0f / kBatch;
      }
      float norm2 = 0.0f;
      for (std::int64_t k = 0; k < kClasses; ++k) {
        gb[k] = 0.0f;
        for (std::int64_t j = 0; j < kFeatures; ++j) gw[k * kFeatures + j] = 1e-5f * w[k * kFeatures + j];
        for (std::int64_t s = 0; s < kBatch; ++s) {
          gb[k] += d[s * kClasses + k];
          for (std::int64_t j = 0; j < kFeatures; ++j) gw[k * kFeatures + j] += d[s * kClasses + k] * xb[s * kFeatures + j];
        }
        norm2 += gb[k] * gb[k];
        for (std::int64_t j = 0; j < kFeatures; ++j) norm2 += gw[k * kFeatures + j] * gw[k * kFeatures + j];
      }
      const float scale = kLr * std::min(1.0f, 10.0f / (std::sqrt(norm2) + 1e-6f));
      for (std::int64_t i = 0; i < kClasses * kFeatures; ++i) w[i] -= scale * gw[i];
      for (std::int64_t k = 0; k < kClasses; ++k) b[k] -= scale * gb[k];
    }
    benchmark::DoNotOptimize(w);
  }
  reportPerClientStep(state, kStepsPerEpoch);
}

// C clients' models as one [C, classes, features] tensor, each step one bmm forward and one bmm
// backward for all of them (manual gradient, no autograd tape; clipping per client).
void LogregStepBatchedClients(benchmark::State& state) {
  const std::int64_t clients = state.range(0);
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  auto x = torch::randn({kStepsPerEpoch, clients, kBatch, kFeatures});
  auto y = torch::randint(kClasses, {kStepsPerEpoch, clients, kBatch}, torch::kInt64);
  auto onehot = torch::one_hot(y, kClasses).to(torch::kFloat32);
  auto w = torch::zeros({clients, kClasses, kFeatures});
  auto b = torch::zeros({clients, 1, kClasses});
  for (auto _ : state) {
    for (std::int64_t step = 0; step < kStepsPerEpoch; ++step) {
      auto xb = x[step];
      auto d = (torch::softmax(torch::baddbmm(b, xb, w.transpose(1, 2)), 2) - onehot[step]) / kBatch;
      auto gw = torch::bmm(d.transpose(1, 2), xb).add_(w, 1e-5);
      auto gb = d.sum(1, true);
      auto norm = (gw.square().sum({1, 2}) + gb.square().sum({1, 2})).sqrt_();
      auto scale = (10.0 / (norm + 1e-6)).clamp_max_(1.0).mul_(-kLr).view({clients, 1, 1});
      w.addcmul_(gw, scale);
      b.addcmul_(gb, scale);
    }
    benchmark::DoNotOptimize(w);
  }
  reportPerClientStep(state, kStepsPerEpoch * clients);
}

// pagefl's stacked training (nn/stacked_sgd.h) of 100 clients (210 samples each, 10 epochs,
// PAGE's Synthetic shapes) cut into stacks of `size`, the stacks trained on `threads` threads at
// once: what a stack costs per client step, alone and side by side with another.
void StackedSgdOf100Clients(benchmark::State& state) {
  const std::int64_t size = state.range(0), threads = state.range(1), clients = 100, samples = 210, epochs = 10;
  torch::manual_seed(3);
  FlatModel model(makeNetwork({"logreg", {kFeatures}, kClasses, {}}));
  std::vector<Dataset> data;
  for (std::int64_t c = 0; c < clients; ++c)
    data.push_back({torch::randn({samples, kFeatures}), torch::randint(kClasses, {samples}, torch::kInt64)});
  const SgdOptions sgd{.lr = kLr, .weight_decay = 1e-5, .clip_norm = 10.0, .epochs = epochs, .batch_size = kBatch};
  for (auto _ : state) {
    std::vector<std::mt19937_64> rngs;
    for (std::int64_t c = 0; c < clients; ++c) rngs.emplace_back(c);
    std::vector<std::vector<StackedSgdJob>> stacks((clients + size - 1) / size);
    for (std::int64_t c = 0; c < clients; ++c)
      stacks[c / size].push_back({data[c], model.snapshot(), sgd, &rngs[c], 0.0, {}});
    std::vector<std::thread> pool;
    for (std::int64_t t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        for (std::size_t s = t; s < stacks.size(); s += threads) benchmark::DoNotOptimize(trainStacked(model.layout(), stacks[s]));
      });
    for (auto& thread : pool) thread.join();
  }
  reportPerClientStep(state, clients * epochs * ((samples + kBatch - 1) / kBatch));
}

BENCHMARK(LogregStepPageflTrainSgd)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(LogregStepPlainLoops)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(StackedSgdOf100Clients)->ArgsProduct({{25, 50}, {1, 2}})->ArgNames({"stack", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(LogregStepBatchedClients)->Arg(1)->Arg(100)->ArgName("clients")->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace pagefl
