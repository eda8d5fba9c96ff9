// Local training and evaluation loops on a FlatModel.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include <torch/types.h>

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
  // Optional, as flat [P] float tensors or [classes] for the offset:
  torch::Tensor trainable = {};     // 1 where parameters train, 0 where they stay fixed (head/body splits)
  torch::Tensor logit_offset = {};  // added to the logits before the loss (balanced softmax: log class prior)
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

// The minibatches of one epoch in a fresh random order, for algorithms that step by hand
// (pFedMe, APFL, Per-FedAvg, FedALA). trainSgd draws its order the same way.
class EpochBatches {
 public:
  EpochBatches(const Dataset& data, std::int64_t batch_size, std::mt19937_64& rng);
  std::int64_t count() const { return (static_cast<std::int64_t>(order_.size()) + batch_size_ - 1) / batch_size_; }
  Dataset batch(std::int64_t i) const;
  // The epoch's sample order: batch i is order()[i * batch_size, (i + 1) * batch_size).
  const std::vector<std::int64_t>& order() const { return order_; }

 private:
  const Dataset& data_;
  std::int64_t batch_size_;
  std::vector<std::int64_t> order_;
};

// Calls `step` on every minibatch of `epochs` passes over `train`, each pass reshuffled from `rng`;
// `step` does the algorithm's work on the batch and returns the loss to report. For algorithms
// that step by hand; the stats are trainSgd's.
TrainStats forEachMinibatch(const Dataset& train, std::int64_t epochs, std::int64_t batch_size, std::mt19937_64& rng,
                            const std::function<double(const Dataset&)>& step);

// Mean cross-entropy of `model` on one minibatch; leaves its gradient in model.grads() (flat
// gradients are switched on). `logit_offset` as in SgdOptions.
double lossAndGradient(FlatModel& model, const Dataset& batch, const torch::Tensor& logit_offset = {});

// One plain SGD step on model.grads() at `lr`, with options' weight decay and clipping (no
// momentum): for algorithms that step by hand.
void sgdStep(FlatModel& model, double lr, const SgdOptions& options);

// Scales `grads` in place to norm at most `clip_norm` (0: no clipping), as clip_grad_norm_ does.
void clipGradient(torch::Tensor& grads, double clip_norm);

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
