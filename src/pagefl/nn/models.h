// The model zoo. Every model maps a batch [N, ...sample shape] to class logits [N, classes].
#pragma once

#include <torch/nn/module.h>

#include <memory>
#include <string>
#include <vector>

namespace pagefl {

class Network : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;
};

struct ModelSpec {
  std::string name;                     // logreg | mlp | cnn | cnn-gn | resnet18-gn | lstm
  std::vector<std::int64_t> sample_shape;
  std::int64_t num_classes = 0;
  std::vector<std::int64_t> hidden;     // MLP widths
};

// Throws pagefl::Error when the model cannot take the sample shape (e.g. a CNN on flat vectors).
// "lstm" reads sequences of character indices (stored as floats) and predicts the next character;
// its vocabulary is the number of classes.
std::shared_ptr<Network> makeNetwork(const ModelSpec& spec);

}  // namespace pagefl
