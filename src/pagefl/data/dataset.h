// A labelled sample set held as two tensors: features x (float, [N, ...]) and labels y (int64, [N]).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace pagefl {

struct Dataset {
  torch::Tensor x;
  torch::Tensor y;

  std::int64_t size() const { return y.defined() ? y.size(0) : 0; }
  Dataset slice(std::int64_t begin, std::int64_t end) const { return {x.slice(0, begin, end), y.slice(0, begin, end)}; }
  Dataset select(const torch::Tensor& indices) const { return {x.index_select(0, indices), y.index_select(0, indices)}; }
  std::vector<std::int64_t> sampleShape() const {
    auto sizes = x.sizes();
    return {sizes.begin() + 1, sizes.end()};
  }
};

// Concatenates datasets with the same sample shape, in order.
Dataset concatenate(const std::vector<Dataset>& parts);

// `samples` of `data` drawn from `rng`, each class in proportion to its share (largest remainders
// settle the rounding), in their original order.
Dataset stratifiedSubset(const Dataset& data, std::int64_t samples, std::mt19937_64& rng);

// Label counts, one entry per class. Throws pagefl::Error for a label outside 0..num_classes-1.
std::vector<std::int64_t> labelHistogram(const torch::Tensor& labels, std::int64_t num_classes);

// Throws pagefl::Error naming `what` when a label of `data` lies outside 0..num_classes-1: labels
// are checked where they are read, before any partitioner indexes a per-class table with them.
void requireLabelsInRange(const Dataset& data, std::int64_t num_classes, const std::string& what);

}  // namespace pagefl
