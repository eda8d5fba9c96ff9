#include "pagefl/data/dataset.h"

#include <torch/torch.h>

#include <algorithm>
#include <map>

#include "pagefl/core/error.h"

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
  for (std::int64_t i = 0; i < y.numel(); ++i) {
    if (p[i] < 0 || p[i] >= num_classes) throw Error("label {} is outside the {} classes", p[i], num_classes);
    ++counts[p[i]];
  }
  return counts;
}

void requireLabelsInRange(const Dataset& data, std::int64_t num_classes, const std::string& what) {
  if (data.size() == 0) return;
  const std::int64_t low = data.y.min().item<std::int64_t>(), high = data.y.max().item<std::int64_t>();
  if (low < 0 || high >= num_classes)
    throw Error("{} holds label {}, outside the {} classes 0..{}: the labels do not fit the dataset (wrong or "
                "corrupt file?)",
                what, low < 0 ? low : high, num_classes, num_classes - 1);
}

Dataset stratifiedSubset(const Dataset& data, std::int64_t samples, std::mt19937_64& rng) {
  const torch::Tensor labels = data.y.contiguous();
  const std::int64_t* label = labels.data_ptr<std::int64_t>();
  std::map<std::int64_t, std::vector<std::int64_t>> by_class;
  for (std::int64_t i = 0; i < data.size(); ++i) by_class[label[i]].push_back(i);
  // Each class's exact share, floored; the remaining picks go to the largest remainders.
  std::vector<std::pair<double, std::int64_t>> remainders;
  std::map<std::int64_t, std::int64_t> quota;
  std::int64_t given = 0;
  for (const auto& [label, members] : by_class) {
    const double share = static_cast<double>(members.size()) * static_cast<double>(samples) / static_cast<double>(data.size());
    quota[label] = static_cast<std::int64_t>(share);
    given += quota[label];
    remainders.emplace_back(-(share - static_cast<double>(quota[label])), label);
  }
  std::sort(remainders.begin(), remainders.end());
  for (std::size_t i = 0; given < samples && i < remainders.size(); ++i, ++given) ++quota[remainders[i].second];
  std::vector<std::int64_t> picked;
  for (auto& [label, members] : by_class) {
    std::shuffle(members.begin(), members.end(), rng);
    picked.insert(picked.end(), members.begin(), members.begin() + quota[label]);
  }
  std::sort(picked.begin(), picked.end());
  return data.select(torch::tensor(picked, torch::kInt64));
}

}  // namespace pagefl
