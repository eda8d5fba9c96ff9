#include "pagefl/nn/stacked_scoring.h"

#include <torch/torch.h>

#include "pagefl/nn/dense_layers.h"

namespace pagefl {

std::vector<EvalResult> evaluateStacked(const ParamLayout& layout, const std::vector<torch::Tensor>& params,
                                        const Dataset& data, std::int64_t batch_size) {
  c10::InferenceMode inference;
  const std::vector<DenseLayer> layers = denseLayers(layout);
  const auto models = static_cast<std::int64_t>(params.size());
  std::vector<EvalResult> results(params.size());
  if (models == 0) return results;

  const torch::Tensor stack = torch::stack(params);
  const DenseLayer& first = layers.front();
  // The first layer of every model as one [models * out, in] matrix, so that one product serves all.
  const torch::Tensor first_weight = stack.narrow(1, first.weight, first.out * first.in).reshape({models * first.out, first.in});
  const torch::Tensor first_bias = stack.narrow(1, first.bias, first.out).reshape({models * first.out});
  torch::Tensor loss_sum = torch::zeros({models}, torch::kFloat64);
  torch::Tensor correct = torch::zeros({models}, torch::kInt64);
  // Logits of all models for a few hundred samples stay in cache; a larger batch only adds traffic.
  const std::int64_t chunk = std::min<std::int64_t>(batch_size, 512);
  for (std::int64_t begin = 0; begin < data.size(); begin += chunk) {
    const std::int64_t end = std::min(begin + chunk, data.size()), n = end - begin;
    const torch::Tensor x = data.x.slice(0, begin, end).reshape({n, first.in});
    const torch::Tensor y = data.y.slice(0, begin, end);
    torch::Tensor h = torch::addmm(first_bias, x, first_weight.t()).view({n, models, first.out}).permute({1, 0, 2});
    for (std::size_t l = 1; l < layers.size(); ++l) {
      const DenseLayer& layer = layers[l];
      const torch::Tensor weight = stack.narrow(1, layer.weight, layer.out * layer.in).view({models, layer.out, layer.in});
      const torch::Tensor bias = stack.narrow(1, layer.bias, layer.out).unsqueeze(1);
      h = torch::baddbmm(bias, torch::relu(h), weight.transpose(1, 2));
    }
    // Cross-entropy as logsumexp - the true class's logit, without materialising the log-probabilities.
    const torch::Tensor true_logit = h.gather(2, y.view({1, n, 1}).expand({models, n, 1})).squeeze(2);
    loss_sum.add_((torch::logsumexp(h, 2) - true_logit).sum(1).to(torch::kFloat64));
    correct.add_(h.argmax(2).eq(y.view({1, n})).sum(1));
  }
  for (std::int64_t m = 0; m < models; ++m) {
    results[m].samples = data.size();
    results[m].correct = correct[m].item<std::int64_t>();
    results[m].loss_sum = loss_sum[m].item<double>();
  }
  return results;
}

}  // namespace pagefl
