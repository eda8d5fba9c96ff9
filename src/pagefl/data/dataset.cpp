#include "pagefl/data/dataset.h"

#include <torch/torch.h>

namespace pagefl {

Dataset concatenate(const std::vector<Dataset>& parts) {
  std::vector<torch::Tensor> xs, ys;
  for (const Dataset& part : parts) {
    xs.push_back(part.x);
    ys.push_back(part.y);
  }
  return {torch::cat(xs), torch::cat(ys)};
}

std::vector<std::int64_t> labelHistogram(const torch::Tensor& labels, std::int64_t num_classes) {
  std::vector<std::int64_t> counts(num_classes, 0);
  auto y = labels.contiguous();
  const std::int64_t* p = y.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < y.numel(); ++i) ++counts[p[i]];
  return counts;
}

}  // namespace pagefl
