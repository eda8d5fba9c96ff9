// The samples a partition shares out over clients. Their labels are at hand from the start (the
// partitioners need them); their features are read when asked for, and only those asked for, so
// that each rank of a sharded simulation reads the samples of its own clients alone.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "pagefl/data/dataset.h"

namespace pagefl {

class SamplePool {
 public:
  // The features of the source's samples at `rows` (ascending, distinct), in that order, as a
  // tensor [rows, ...]. Throws pagefl::Error for a missing or corrupt source.
  using FeatureReader = std::function<torch::Tensor(const std::vector<std::int64_t>& rows)>;

  SamplePool() = default;
  SamplePool(torch::Tensor labels, FeatureReader read);
  // A pool whose samples are in memory already.
  static SamplePool inMemory(Dataset data);

  std::int64_t size() const { return labels_.defined() ? labels_.size(0) : 0; }
  const torch::Tensor& labels() const { return labels_; }

  // The pool of the samples at `rows` (int64, ascending, distinct), numbered from 0 in that order.
  SamplePool subset(const torch::Tensor& rows) const;

  // The samples at `rows` (ascending, distinct), read in one pass over the source.
  Dataset read(const std::vector<std::int64_t>& rows) const;
  Dataset readAll() const;

 private:
  torch::Tensor labels_;                   // int64 [N]
  std::vector<std::int64_t> source_rows_;  // the source's row of each sample; empty: the same
  FeatureReader read_;
};

}  // namespace pagefl
