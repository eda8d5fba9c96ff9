// A fully connected model's layers (logreg, MLP) as offsets into its flat parameters, for the
// code that works on many such models at once (stacked training and scoring).
#pragma once

#include <cstdint>
#include <vector>

#include "pagefl/nn/flat_model.h"

namespace pagefl {

struct DenseLayer {
  std::int64_t weight = 0, bias = 0, out = 0, in = 0;  // weight [out, in] and bias [out] offsets
};

// Throws pagefl::Error unless the layout alternates [out, in] weights and [out] biases whose
// widths chain, as logreg and mlp do.
std::vector<DenseLayer> denseLayers(const ParamLayout& layout);

}  // namespace pagefl
