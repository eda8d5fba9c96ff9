#include "pagefl/nn/local_training.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

namespace pagefl {

EpochBatches::EpochBatches(const Dataset& data, std::int64_t batch_size, std::mt19937_64& rng)
    : data_(data), batch_size_(batch_size), order_(static_cast<std::size_t>(data.size())) {
  std::iota(order_.begin(), order_.end(), 0);
  std::shuffle(order_.begin(), order_.end(), rng);
}

Dataset EpochBatches::batch(std::int64_t i) const {
  const auto n = static_cast<std::int64_t>(order_.size());
  const std::int64_t begin = i * batch_size_;
  auto picked = torch::from_blob(const_cast<std::int64_t*>(order_.data()) + begin,
                                 {std::min(batch_size_, n - begin)}, torch::kInt64);
  return {data_.x.index_select(0, picked), data_.y.index_select(0, picked)};
}

namespace {

torch::Tensor lossOf(FlatModel& model, const Dataset& batch, const torch::Tensor& logit_offset) {
  auto logits = model.network().forward(batch.x);
  if (logit_offset.defined()) logits = logits + logit_offset;
  return torch::nn::functional::cross_entropy(logits, batch.y);
}

}  // namespace

double lossAndGradient(FlatModel& model, const Dataset& batch, const torch::Tensor& logit_offset) {
  model.useFlatGrads(true);
  model.clearGrads();
  auto loss = lossOf(model, batch, logit_offset);
  loss.backward();
  return loss.item<double>();
}

void clipGradient(torch::Tensor& grads, double clip_norm) {
  if (clip_norm <= 0) return;
  const double norm = grads.norm().item<double>();
  if (norm > clip_norm) grads.mul_(clip_norm / (norm + 1e-6));
}

TrainStats forEachMinibatch(const Dataset& train, std::int64_t epochs, std::int64_t batch_size, std::mt19937_64& rng,
                            const std::function<double(const Dataset&)>& step) {
  TrainStats stats;
  double loss_sum = 0.0;
  for (std::int64_t epoch = 0; epoch < epochs; ++epoch) {
    EpochBatches batches(train, batch_size, rng);
    for (std::int64_t b = 0; b < batches.count(); ++b) {
      const Dataset batch = batches.batch(b);
      loss_sum += step(batch) * static_cast<double>(batch.size());
      stats.samples += batch.size();
      ++stats.steps;
    }
  }
  stats.mean_loss = stats.samples ? loss_sum / static_cast<double>(stats.samples) : 0.0;
  return stats;
}

void sgdStep(FlatModel& model, double lr, const SgdOptions& options) {
  torch::NoGradGuard no_grad;
  if (options.weight_decay > 0) model.grads().add_(model.params(), options.weight_decay);
  clipGradient(model.grads(), options.clip_norm);
  model.params().add_(model.grads(), -lr);
}

TrainStats trainSgd(FlatModel& model, const Dataset& train, const SgdOptions& options, std::mt19937_64& rng,
                    const GradientHook& hook) {
  TrainStats stats;
  const std::int64_t n = train.size();
  if (n == 0 || options.epochs <= 0) return stats;

  torch::optim::SGD optimizer(model.parameters(), torch::optim::SGDOptions(options.lr)
                                                      .momentum(options.momentum)
                                                      .weight_decay(options.weight_decay));
  const bool masked = options.trainable.defined();
  // Fixed parameters are put back after every step: the optimiser's weight decay and momentum
  // would otherwise move them.
  const torch::Tensor fixed = masked ? model.snapshot() : torch::Tensor();
  // Flat gradients only when something works on the whole gradient; otherwise skip their cost.
  model.useFlatGrads(hook || options.clip_norm > 0 || masked);
  double loss_sum = 0.0;
  for (std::int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    EpochBatches batches(train, options.batch_size, rng);
    for (std::int64_t b = 0; b < batches.count(); ++b) {
      Dataset batch = batches.batch(b);
      model.clearGrads();
      auto loss = lossOf(model, batch, options.logit_offset);
      loss.backward();
      if (hook) hook(model);
      if (masked) model.grads().mul_(options.trainable);
      clipGradient(model.grads(), options.clip_norm);
      optimizer.step();
      if (masked) {
        torch::NoGradGuard no_grad;
        model.params().sub_(fixed).mul_(options.trainable).add_(fixed);
      }

      loss_sum += loss.item<double>() * static_cast<double>(batch.size());
      stats.samples += batch.size();
      ++stats.steps;
    }
  }
  stats.mean_loss = loss_sum / static_cast<double>(stats.samples);
  return stats;
}

EvalResult evaluate(FlatModel& model, const Dataset& data, std::int64_t batch_size) {
  // Inference mode skips autograd's version counters and views bookkeeping, not just the tape.
  c10::InferenceMode inference;
  EvalResult result;
  for (std::int64_t begin = 0; begin < data.size(); begin += batch_size) {
    const std::int64_t end = std::min(begin + batch_size, data.size());
    auto logits = model.network().forward(data.x.slice(0, begin, end));
    auto y = data.y.slice(0, begin, end);
    result.loss_sum +=
        torch::nn::functional::cross_entropy(logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    result.correct += logits.argmax(1).eq(y).sum().item<std::int64_t>();
    result.samples += end - begin;
  }
  return result;
}

}  // namespace pagefl
