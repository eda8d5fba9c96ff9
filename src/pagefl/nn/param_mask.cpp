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

namespace {

std::vector<std::string> modulesOf(const ParamLayout& layout) {
  std::vector<std::string> modules;  // in layout order, each once
  for (const ParamEntry& entry : layout.entries())
    if (modules.empty() || modules.back() != moduleOf(entry.name)) modules.push_back(moduleOf(entry.name));
  return modules;
}

ParamMask lastModules(const ParamLayout& layout, const std::vector<std::string>& modules, std::int64_t layers) {
  const std::string& first = modules[modules.size() - static_cast<std::size_t>(layers)];
  bool selected = false;
  return maskWhere(layout, [&](std::size_t i) {
    selected = selected || moduleOf(layout.entries()[i].name) == first;
    return selected;
  });
}

}  // namespace

ParamMask headMask(const ParamLayout& layout, std::int64_t layers) {
  const std::vector<std::string> modules = modulesOf(layout);
  if (layers < 1 || layers >= static_cast<std::int64_t>(modules.size()))
    throw Error("algorithm.head_layers = {} but the model has {} parameterised modules; the head must leave a body "
                "of at least one",
                layers, modules.size());
  return lastModules(layout, modules, layers);
}

ParamMask lastModulesMask(const ParamLayout& layout, std::int64_t layers, const std::string& setting) {
  const std::vector<std::string> modules = modulesOf(layout);
  if (layers < 1 || layers > static_cast<std::int64_t>(modules.size()))
    throw Error("{} = {} but the model has {} parameterised modules", setting, layers, modules.size());
  return lastModules(layout, modules, layers);
}

ParamMask normMask(const ParamLayout& layout) {
  return maskWhere(layout, [&](std::size_t i) {
    const std::string module = moduleOf(layout.entries()[i].name);
    return module.find("norm") != std::string::npos || module.find("bn") != std::string::npos;
  });
}

}  // namespace pagefl
