#include "pagefl/nn/dense_layers.h"

#include "pagefl/core/error.h"

namespace pagefl {

std::vector<DenseLayer> denseLayers(const ParamLayout& layout) {
  const auto& entries = layout.entries();
  std::vector<DenseLayer> layers;
  for (std::size_t i = 0; i < entries.size(); i += 2) {
    const ParamEntry& weight = entries[i];
    const bool dense = i + 1 < entries.size() && weight.shape.size() == 2 && entries[i + 1].shape.size() == 1 &&
                       entries[i + 1].shape[0] == weight.shape[0] &&
                       (layers.empty() || layers.back().out == weight.shape[1]);
    if (!dense)
      throw Error("stacked client training serves fully connected models only, and '{}' is not a dense layer's "
                  "weight followed by its bias; set run.batched_clients = \"off\"",
                  weight.name);
    layers.push_back({weight.offset, entries[i + 1].offset, weight.shape[0], weight.shape[1]});
  }
  if (layers.empty()) throw Error("stacked client training needs a model with parameters");
  return layers;
}

}  // namespace pagefl
