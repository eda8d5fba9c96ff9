#include "pagefl/nn/models.h"

#include <torch/torch.h>

#include "pagefl/core/error.h"

namespace pagefl {
namespace {

std::int64_t product(const std::vector<std::int64_t>& dims) {
  std::int64_t p = 1;
  for (std::int64_t d : dims) p *= d;
  return p;
}

class LogisticRegression final : public Network {
 public:
  LogisticRegression(std::int64_t inputs, std::int64_t classes)
      : fc_(register_module("fc", torch::nn::Linear(inputs, classes))) {}
  torch::Tensor forward(torch::Tensor x) override { return fc_(x.flatten(1)); }

 private:
  torch::nn::Linear fc_;
};

class Mlp final : public Network {
 public:
  Mlp(std::int64_t inputs, const std::vector<std::int64_t>& hidden, std::int64_t classes) {
    std::int64_t width = inputs;
    for (std::size_t i = 0; i < hidden.size(); ++i) {
      layers_.push_back(register_module("fc" + std::to_string(i + 1), torch::nn::Linear(width, hidden[i])));
      width = hidden[i];
    }
    layers_.push_back(register_module("out", torch::nn::Linear(width, classes)));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = x.flatten(1);
    for (std::size_t i = 0; i + 1 < layers_.size(); ++i) x = torch::relu(layers_[i](x));
    return layers_.back()(x);
  }

 private:
  std::vector<torch::nn::Linear> layers_;
};

// The CNN of McMahan et al. used across FL papers: conv5x5(32) -> pool -> conv5x5(64) -> pool
// -> fc(512) -> classes, with unpadded convolutions as in PFLlib's FedAvgCNN.
class FedAvgCnn final : public Network {
 public:
  FedAvgCnn(const std::vector<std::int64_t>& shape, std::int64_t classes)
      : conv1_(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(shape[0], 32, 5)))),
        conv2_(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 5)))) {
    const std::int64_t h = ((shape[1] - 4) / 2 - 4) / 2;
    const std::int64_t w = ((shape[2] - 4) / 2 - 4) / 2;
    if (h < 1 || w < 1)
      throw Error("model.name = \"cnn\" needs images of at least 12x12 pixels; samples are {}x{}", shape[1], shape[2]);
    fc1_ = register_module("fc1", torch::nn::Linear(64 * h * w, 512));
    fc2_ = register_module("fc2", torch::nn::Linear(512, classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = torch::max_pool2d(torch::relu(conv1_(x)), 2);
    x = torch::max_pool2d(torch::relu(conv2_(x)), 2);
    x = torch::relu(fc1_(x.flatten(1)));
    return fc2_(x);
  }

 private:
  torch::nn::Conv2d conv1_, conv2_;
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};

}  // namespace

std::shared_ptr<Network> makeNetwork(const ModelSpec& spec) {
  const std::int64_t inputs = product(spec.sample_shape);
  if (spec.num_classes < 2) throw Error("the data has {} classes; a classifier needs at least 2", spec.num_classes);
  if (spec.name == "logreg") return std::make_shared<LogisticRegression>(inputs, spec.num_classes);
  if (spec.name == "mlp") return std::make_shared<Mlp>(inputs, spec.hidden, spec.num_classes);
  if (spec.name == "cnn") {
    if (spec.sample_shape.size() != 3)
      throw Error("model.name = \"cnn\" needs image samples [channels, height, width], but samples have shape [{}]; "
                  "for LEAF data set data.leaf_sample_shape, or use model.name = \"mlp\"",
                  fmt::join(spec.sample_shape, ", "));
    return std::make_shared<FedAvgCnn>(spec.sample_shape, spec.num_classes);
  }
  throw Error("unknown model.name '{}'; choose logreg, mlp or cnn", spec.name);
}

}  // namespace pagefl
