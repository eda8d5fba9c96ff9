#include "pagefl/nn/local_training.h"

#include <torch/torch.h>

#include <numeric>

namespace pagefl {

TrainStats trainSgd(FlatModel& model, const Dataset& train, const SgdOptions& options, std::mt19937_64& rng,
                    const GradientHook& hook) {
  TrainStats stats;
  const std::int64_t n = train.size();
  if (n == 0 || options.epochs <= 0) return stats;

  torch::optim::SGD optimizer(model.parameters(), torch::optim::SGDOptions(options.lr)
                                                      .momentum(options.momentum)
                                                      .weight_decay(options.weight_decay));
  // Flat gradients only when something works on the whole gradient; otherwise skip their cost.
  model.useFlatGrads(hook || options.clip_norm > 0);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  double loss_sum = 0.0;
  for (std::int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    auto permutation = torch::from_blob(order.data(), {n}, torch::kInt64);
    for (std::int64_t begin = 0; begin < n; begin += options.batch_size) {
      auto batch = permutation.slice(0, begin, std::min(begin + options.batch_size, n));
      auto x = train.x.index_select(0, batch);
      auto y = train.y.index_select(0, batch);

      model.clearGrads();
      auto loss = torch::nn::functional::cross_entropy(model.network().forward(x), y);
      loss.backward();
      if (hook) hook(model);
      if (options.clip_norm > 0) {
        // Same rule as torch::nn::utils::clip_grad_norm_, on the one flat gradient buffer.
        const double norm = model.grads().norm().item<double>();
        if (norm > options.clip_norm) model.grads().mul_(options.clip_norm / (norm + 1e-6));
      }
      optimizer.step();

      loss_sum += loss.item<double>() * static_cast<double>(batch.size(0));
      stats.samples += batch.size(0);
      ++stats.steps;
    }
  }
  stats.mean_loss = loss_sum / static_cast<double>(stats.samples);
  return stats;
}

EvalResult evaluate(FlatModel& model, const Dataset& data, std::int64_t batch_size) {
  torch::NoGradGuard no_grad;
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
