#include "pagefl/data/sample_pool.h"

#include <torch/torch.h>

#include <numeric>
#include <utility>

namespace pagefl {

SamplePool::SamplePool(torch::Tensor labels, FeatureReader read) : labels_(std::move(labels)), read_(std::move(read)) {}

SamplePool SamplePool::inMemory(Dataset data) {
  torch::Tensor features = data.x;
  return SamplePool(data.y, [features](const std::vector<std::int64_t>& rows) {
    return features.index_select(0, torch::tensor(rows, torch::kInt64));
  });
}

SamplePool SamplePool::subset(const torch::Tensor& picked) const {
  const torch::Tensor rows = picked.to(torch::kInt64).contiguous();
  SamplePool out(labels_.index_select(0, rows), read_);
  const auto* row = rows.data_ptr<std::int64_t>();
  out.source_rows_.reserve(static_cast<std::size_t>(rows.numel()));
  for (std::int64_t i = 0; i < rows.numel(); ++i)
    out.source_rows_.push_back(source_rows_.empty() ? row[i] : source_rows_[static_cast<std::size_t>(row[i])]);
  return out;
}

Dataset SamplePool::read(const std::vector<std::int64_t>& rows) const {
  std::vector<std::int64_t> source_rows = rows;
  if (!source_rows_.empty())
    for (std::int64_t& row : source_rows) row = source_rows_[static_cast<std::size_t>(row)];
  return {read_(source_rows), labels_.index_select(0, torch::tensor(rows, torch::kInt64))};
}

Dataset SamplePool::readAll() const {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(size()));
  std::iota(rows.begin(), rows.end(), 0);
  return read(rows);
}

}  // namespace pagefl
