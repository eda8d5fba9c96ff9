// Scoring many fully connected models (logreg, MLP) on the same data at once: the first layer of
// all of them is one matrix product against the shared inputs, the rest one batched product per
// layer. PAGE's server scores every upload each round; for small models this replaces one pass
// of small operations per upload. Results equal evaluate()'s up to float rounding.
#pragma once

#include <torch/types.h>

#include <vector>

#include "pagefl/data/dataset.h"
#include "pagefl/nn/flat_model.h"
#include "pagefl/nn/local_training.h"

namespace pagefl {

// Each of `params` (flat, of `layout`) on `data`, `batch_size` samples at a time.
std::vector<EvalResult> evaluateStacked(const ParamLayout& layout, const std::vector<torch::Tensor>& params,
                                        const Dataset& data, std::int64_t batch_size);

}  // namespace pagefl
