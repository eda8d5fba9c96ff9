#include "pagefl/nn/models.h"

#include <fmt/ranges.h>
#include <torch/torch.h>

#include "pagefl/core/error.h"
#include "pagefl/core/runtime.h"

namespace pagefl {
namespace {

// Copies of the parameters one replica keeps while training: the weights, their gradients, the
// momentum, and the global model it started from.
constexpr double kCopiesPerReplica = 4;

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
  // group_norm adds GroupNorm(2) after each convolution (model "cnn-gn"): the small model with
  // normalisation layers that FedBN keeps local.
  FedAvgCnn(const std::vector<std::int64_t>& shape, std::int64_t classes, bool group_norm)
      : conv1_(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(shape[0], 32, 5)))),
        conv2_(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 5)))) {
    if (group_norm) {
      norm1_ = register_module("norm1", torch::nn::GroupNorm(2, 32));
      norm2_ = register_module("norm2", torch::nn::GroupNorm(2, 64));
    }
    const std::int64_t h = ((shape[1] - 4) / 2 - 4) / 2;
    const std::int64_t w = ((shape[2] - 4) / 2 - 4) / 2;
    if (h < 1 || w < 1)
      throw Error("model.name = \"cnn\" needs images of at least 12x12 pixels; samples are {}x{}", shape[1], shape[2]);
    fc1_ = register_module("fc1", torch::nn::Linear(64 * h * w, 512));
    fc2_ = register_module("fc2", torch::nn::Linear(512, classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = conv1_(x);
    if (norm1_) x = norm1_(x);
    x = torch::max_pool2d(torch::relu(x), 2);
    x = conv2_(x);
    if (norm2_) x = norm2_(x);
    x = torch::max_pool2d(torch::relu(x), 2);
    x = torch::relu(fc1_(x.flatten(1)));
    return fc2_(x);
  }

 private:
  torch::nn::Conv2d conv1_, conv2_;
  torch::nn::GroupNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};

// ResNet-18 in torchvision's layout (7x7 stride-2 stem, max-pool, four stages of two basic
// blocks, global average pool) with GroupNorm(2, channels) in place of every BatchNorm, as PAGE's
// CIFAR-100 and Tiny-ImageNet setups use: no running statistics, so the flat parameters are the
// whole model state.
class BasicBlock final : public torch::nn::Module {
 public:
  BasicBlock(std::int64_t in, std::int64_t out, std::int64_t stride)
      : conv1_(register_module("conv1", conv(in, out, 3, stride))),
        norm1_(register_module("norm1", torch::nn::GroupNorm(2, out))),
        conv2_(register_module("conv2", conv(out, out, 3, 1))),
        norm2_(register_module("norm2", torch::nn::GroupNorm(2, out))) {
    if (stride != 1 || in != out) {
      shortcut_conv_ = register_module("shortcut_conv", conv(in, out, 1, stride));
      shortcut_norm_ = register_module("shortcut_norm", torch::nn::GroupNorm(2, out));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = torch::relu(norm1_(conv1_(x)));
    y = norm2_(conv2_(y));
    return torch::relu(y + (shortcut_conv_ ? shortcut_norm_(shortcut_conv_(x)) : x));
  }
  static torch::nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride) {
    return torch::nn::Conv2d(
        torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false));
  }

 private:
  torch::nn::Conv2d conv1_;
  torch::nn::GroupNorm norm1_;
  torch::nn::Conv2d conv2_;
  torch::nn::GroupNorm norm2_;
  torch::nn::Conv2d shortcut_conv_{nullptr};
  torch::nn::GroupNorm shortcut_norm_{nullptr};
};

class ResNet18GroupNorm final : public Network {
 public:
  ResNet18GroupNorm(std::int64_t channels, std::int64_t classes)
      : stem_(register_module("stem", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, 64, 7).stride(2).padding(3).bias(false)))),
        stem_norm_(register_module("stem_norm", torch::nn::GroupNorm(2, 64))) {
    std::int64_t in = 64;
    int index = 0;
    for (std::int64_t width : {64, 128, 256, 512}) {
      for (int block = 0; block < 2; ++block) {
        const std::int64_t stride = block == 0 && width != 64 ? 2 : 1;
        blocks_.push_back(register_module("block" + std::to_string(++index), std::make_shared<BasicBlock>(in, width, stride)));
        in = width;
      }
    }
    fc_ = register_module("fc", torch::nn::Linear(512, classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = torch::max_pool2d(torch::relu(stem_norm_(stem_(x))), 3, 2, 1);
    for (auto& block : blocks_) x = block->forward(x);
    return fc_(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
  }

 private:
  torch::nn::Conv2d stem_;
  torch::nn::GroupNorm stem_norm_;
  std::vector<std::shared_ptr<BasicBlock>> blocks_;
  torch::nn::Linear fc_{nullptr};
};

// The LEAF Shakespeare model of PAGE's setup: Embedding(vocabulary, 8) -> 2-layer LSTM(100) ->
// Linear(100, vocabulary) on the last step.
class CharLstm final : public Network {
 public:
  explicit CharLstm(std::int64_t vocabulary)
      : embedding_(register_module("embedding", torch::nn::Embedding(vocabulary, 8))),
        lstm_(register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(8, 100).num_layers(2).batch_first(true)))),
        fc_(register_module("fc", torch::nn::Linear(100, vocabulary))) {}
  torch::Tensor forward(torch::Tensor x) override {
    auto steps = std::get<0>(lstm_(embedding_(x.to(torch::kInt64))));
    return fc_(steps.select(1, steps.size(1) - 1));
  }

 private:
  torch::nn::Embedding embedding_;
  torch::nn::LSTM lstm_;
  torch::nn::Linear fc_;
};

// The parameters of a dense stack inputs -> widths... -> classes, in double so that no width
// overflows the count.
double denseParameters(std::int64_t inputs, const std::vector<std::int64_t>& widths, std::int64_t classes) {
  double count = 0, width = static_cast<double>(inputs);
  for (std::int64_t next : widths) count += (width + 1) * static_cast<double>(next), width = static_cast<double>(next);
  return count + (width + 1) * static_cast<double>(classes);
}

// A model whose parameters, gradients and optimiser state alone would not fit in memory is
// refused before LibTorch tries to allocate it.
void requireDenseModelFits(const ModelSpec& spec, std::int64_t inputs) {
  const std::vector<std::int64_t> widths = spec.name == "mlp" ? spec.hidden : std::vector<std::int64_t>{};
  const double bytes = denseParameters(inputs, widths, spec.num_classes) * sizeof(float) * kCopiesPerReplica;
  if (bytes > static_cast<double>(physicalMemoryBytes()))
    throw Error("model.name = \"{}\" with model.hidden = [{}] over {} inputs and {} classes needs about {:.1f} GB per "
                "replica (parameters, gradients, momentum, the global copy), more than this machine's {:.1f} GB: "
                "use smaller widths",
                spec.name, excerpt(fmt::format("{}", fmt::join(widths, ", "))), inputs, spec.num_classes, bytes / 1e9,
                static_cast<double>(physicalMemoryBytes()) / 1e9);
}

}  // namespace

std::shared_ptr<Network> makeNetwork(const ModelSpec& spec) {
  const std::int64_t inputs = product(spec.sample_shape);
  if (spec.num_classes < 2) throw Error("the data has {} classes; a classifier needs at least 2", spec.num_classes);
  if (spec.name == "logreg" || spec.name == "mlp") requireDenseModelFits(spec, inputs);
  if (spec.name == "logreg") return std::make_shared<LogisticRegression>(inputs, spec.num_classes);
  if (spec.name == "mlp") return std::make_shared<Mlp>(inputs, spec.hidden, spec.num_classes);
  if (spec.name == "cnn" || spec.name == "cnn-gn") {
    if (spec.sample_shape.size() != 3)
      throw Error("model.name = \"{}\" needs image samples [channels, height, width], but samples have shape [{}]; "
                  "for LEAF data set data.leaf_sample_shape, or use model.name = \"mlp\"",
                  spec.name, fmt::join(spec.sample_shape, ", "));
    return std::make_shared<FedAvgCnn>(spec.sample_shape, spec.num_classes, spec.name == "cnn-gn");
  }
  if (spec.name == "resnet18-gn") {
    if (spec.sample_shape.size() != 3)
      throw Error("model.name = \"resnet18-gn\" needs image samples [channels, height, width], but samples have "
                  "shape [{}]",
                  fmt::join(spec.sample_shape, ", "));
    return std::make_shared<ResNet18GroupNorm>(spec.sample_shape[0], spec.num_classes);
  }
  if (spec.name == "lstm") {
    if (spec.sample_shape.size() != 1)
      throw Error("model.name = \"lstm\" needs samples that are sequences of character indices, but samples have "
                  "shape [{}]",
                  fmt::join(spec.sample_shape, ", "));
    return std::make_shared<CharLstm>(spec.num_classes);
  }
  throw Error("unknown model.name '{}'; choose logreg, mlp, cnn, cnn-gn, resnet18-gn or lstm", spec.name);
}

}  // namespace pagefl
