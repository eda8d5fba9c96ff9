#include "pagefl/nn/param_mask.h"

#include <torch/torch.h>

#include <functional>

#include "pagefl/core/error.h"

namespace pagefl {
namespace {

std::string moduleOf(const std::string& name) {
  const auto dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

ParamMask maskWhere(const ParamLayout& layout, const std::function<bool(std::size_t)>& selected) {
  auto ones = torch::zeros({layout.size()}, torch::kFloat32);
  for (std::size_t i = 0; i < layout.entries().size(); ++i) {
    const ParamEntry& entry = layout.entries()[i];
    if (selected(i)) ones.slice(0, entry.offset, entry.offset + entry.numel).fill_(1.0f);
  }
  return {ones, ones.nonzero().flatten()};
}

}  // namespace

ParamMask headMask(const ParamLayout& layout, std::int64_t layers) {
  std::vector<std::string> modules;  // in layout order, each once
  for (const ParamEntry& entry : layout.entries())
    if (modules.empty() || modules.back() != moduleOf(entry.name)) modules.push_back(moduleOf(entry.name));
  if (layers < 1 || layers >= static_cast<std::int64_t>(modules.size()))
    throw Error("algorithm.head_layers = {} but the model has {} parameterised modules; the head must leave a body "
                "of at least one",
                layers, modules.size());
  const std::string& first_head = modules[modules.size() - static_cast<std::size_t>(layers)];
  bool in_head = false;
  return maskWhere(layout, [&](std::size_t i) {
    in_head = in_head || moduleOf(layout.entries()[i].name) == first_head;
    return in_head;
  });
}

ParamMask normMask(const ParamLayout& layout) {
  return maskWhere(layout, [&](std::size_t i) {
    const std::string module = moduleOf(layout.entries()[i].name);
    return module.find("norm") != std::string::npos || module.find("bn") != std::string::npos;
  });
}

}  // namespace pagefl
