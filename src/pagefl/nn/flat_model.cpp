#include "pagefl/nn/flat_model.h"

#include <torch/torch.h>

#include <cmath>

#include "pagefl/core/error.h"

namespace pagefl {

void ParamLayout::add(std::string name, std::vector<std::int64_t> shape) {
  std::int64_t numel = 1;
  for (std::int64_t d : shape) numel *= d;
  entries_.push_back({std::move(name), std::move(shape), size_, numel});
  size_ += numel;
}

const ParamEntry& ParamLayout::find(const std::string& name) const {
  for (const ParamEntry& entry : entries_)
    if (entry.name == name) return entry;
  throw Error("the model has no parameter named '{}'", name);
}

FlatModel::FlatModel(std::shared_ptr<Network> network) : network_(std::move(network)) {
  auto named = network_->named_parameters(/*recurse=*/true);
  for (const auto& item : named) layout_.add(item.key(), item.value().sizes().vec());
  params_ = torch::zeros({layout_.size()}, torch::kFloat32);
  grads_ = torch::zeros({layout_.size()}, torch::kFloat32);

  torch::NoGradGuard no_grad;
  std::size_t i = 0;
  for (auto& item : named) {
    const ParamEntry& entry = layout_.entries()[i++];
    torch::Tensor& param = item.value();
    auto view = params_.slice(0, entry.offset, entry.offset + entry.numel).view(entry.shape);
    view.copy_(param);
    param.set_data(view);
  }
  useFlatGrads(true);
}

void FlatModel::useFlatGrads(bool on) {
  flat_grads_ = on;
  std::size_t i = 0;
  for (torch::Tensor& param : network_->parameters()) {
    const ParamEntry& entry = layout_.entries()[i++];
    // Autograd accumulates into an existing gradient in place, so gradients land in grads_.
    param.mutable_grad() =
        on ? grads_.slice(0, entry.offset, entry.offset + entry.numel).view(entry.shape) : torch::Tensor();
  }
}

void FlatModel::clearGrads() {
  if (flat_grads_) {
    grads_.zero_();
    return;
  }
  for (torch::Tensor& param : network_->parameters()) param.mutable_grad().reset();
}

void FlatModel::load(const torch::Tensor& flat) {
  if (flat.dim() != 1 || flat.numel() != params_.numel())
    throw Error("parameter vector has {} values but the model's layout needs {}", flat.numel(), params_.numel());
  torch::NoGradGuard no_grad;
  params_.copy_(flat);
}

torch::Tensor initialParameters(const ParamLayout& layout, const std::string& init, at::Generator generator) {
  auto flat = torch::zeros({layout.size()}, torch::kFloat32);
  if (init == "zeros") return flat;
  if (init != "default") throw Error("unknown model.init '{}'; choose default or zeros", init);

  auto fanIn = [](const std::vector<std::int64_t>& shape) {
    std::int64_t fan = 1;
    for (std::size_t d = 1; d < shape.size(); ++d) fan *= shape[d];
    return fan;
  };
  const std::string weight_suffix = ".weight", bias_suffix = ".bias";
  for (const ParamEntry& entry : layout.entries()) {
    auto values = flat.slice(0, entry.offset, entry.offset + entry.numel);
    const std::string& name = entry.name;
    double bound = 0;
    if (name.find("_ih_l") != std::string::npos || name.find("_hh_l") != std::string::npos) {
      bound = 1.0 / std::sqrt(static_cast<double>(entry.shape[0] / 4));  // LSTM gates stack 4 x hidden rows
    } else if (name.ends_with(bias_suffix)) {
      const auto& weight = layout.find(name.substr(0, name.size() - bias_suffix.size()) + weight_suffix);
      if (weight.shape.size() == 1) continue;  // normalisation bias: 0
      bound = 1.0 / std::sqrt(static_cast<double>(fanIn(weight.shape)));
    } else if (entry.shape.size() == 1) {
      values.fill_(1.0);  // normalisation weight
      continue;
    } else {
      bound = 1.0 / std::sqrt(static_cast<double>(std::max<std::int64_t>(fanIn(entry.shape), 1)));
    }
    values.uniform_(-bound, bound, generator);
  }
  return flat;
}

}  // namespace pagefl
