// Local training and evaluation loops on a FlatModel.
#pragma once

#include <cstdint>
#include <functional>
#include <random>

#include "pagefl/data/dataset.h"
#include "pagefl/nn/flat_model.h"

namespace pagefl {

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double weight_decay = 0.0;
  double clip_norm = 0.0;  // 0: off
  std::int64_t epochs = 1;
  std::int64_t batch_size = 32;
};

struct TrainStats {
  std::int64_t steps = 0;
  std::int64_t samples = 0;  // sample-gradients computed (samples x epochs)
  double mean_loss = 0.0;
};

// Called after each backward pass, before clipping and the step, with the model whose grads()
// hold the minibatch gradient. Algorithms add their terms here (FedProx's proximal gradient).
using GradientHook = std::function<void(FlatModel&)>;

// Minibatch SGD over `train`, reshuffled every epoch from `rng`. Mean cross-entropy loss.
TrainStats trainSgd(FlatModel& model, const Dataset& train, const SgdOptions& options, std::mt19937_64& rng,
                    const GradientHook& hook = {});

// Sums over the evaluated samples; combine partial results by adding them in a fixed order.
struct EvalResult {
  std::int64_t samples = 0;
  std::int64_t correct = 0;
  double loss_sum = 0.0;

  double accuracy() const { return samples ? static_cast<double>(correct) / static_cast<double>(samples) : 0.0; }
  double loss() const { return samples ? loss_sum / static_cast<double>(samples) : 0.0; }
  EvalResult& operator+=(const EvalResult& other) {
    samples += other.samples;
    correct += other.correct;
    loss_sum += other.loss_sum;
    return *this;
  }
};

EvalResult evaluate(FlatModel& model, const Dataset& data, std::int64_t batch_size);

}  // namespace pagefl
