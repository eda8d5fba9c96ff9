// A network whose trainable parameters (and their gradients) are views into one contiguous
// float buffer with a named layout. Aggregation, checkpoints, transport and per-client state
// all work on such flat buffers; loading a model is one copy.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "pagefl/nn/models.h"

namespace pagefl {

struct ParamEntry {
  std::string name;  // e.g. "conv1.weight"
  std::vector<std::int64_t> shape;
  std::int64_t offset = 0;
  std::int64_t numel = 0;
};

class ParamLayout {
 public:
  void add(std::string name, std::vector<std::int64_t> shape);
  const std::vector<ParamEntry>& entries() const { return entries_; }
  std::int64_t size() const { return size_; }
  // Throws pagefl::Error when no parameter has this name.
  const ParamEntry& find(const std::string& name) const;

 private:
  std::vector<ParamEntry> entries_;
  std::int64_t size_ = 0;
};

class FlatModel {
 public:
  explicit FlatModel(std::shared_ptr<Network> network);

  Network& network() { return *network_; }
  const ParamLayout& layout() const { return layout_; }
  std::vector<torch::Tensor> parameters() const { return network_->parameters(); }

  // The live buffers: writing params() changes the network; grads() holds the last gradients
  // while flat gradients are on.
  torch::Tensor& params() { return params_; }
  torch::Tensor& grads() { return grads_; }

  // Flat gradients (on by default) let an algorithm read or change the whole gradient in place,
  // at the price of an accumulation pass per step; off, autograd hands each parameter a fresh
  // gradient tensor, as a plain LibTorch loop does.
  void useFlatGrads(bool on);
  // Zeroes the flat gradients, or drops the per-parameter ones, before a backward pass.
  void clearGrads();

  // Copies a flat parameter vector in; throws pagefl::Error on a size mismatch.
  void load(const torch::Tensor& flat);
  torch::Tensor snapshot() const { return params_.clone(); }

 private:
  std::shared_ptr<Network> network_;
  ParamLayout layout_;
  torch::Tensor params_;
  torch::Tensor grads_;
  bool flat_grads_ = true;
};

// Initial parameters for a model: "zeros", or "default" = PyTorch's default initialisation by
// parameter kind, drawn from `generator` so that the same seed gives the same model in every
// process: Linear, Conv and Embedding weights and their biases uniform in +-1/sqrt(fan_in);
// normalisation weights 1 and biases 0; LSTM weights and biases uniform in +-1/sqrt(hidden).
torch::Tensor initialParameters(const ParamLayout& layout, const std::string& init, at::Generator generator);

}  // namespace pagefl
