// Parameter masks over a flat layout: which entries of the flat vector belong to the head, to the
// normalisation layers, and so on. Head/body algorithms (FedPer, FedRep, Fed-RoD, FedBABU,
// FedRecon) and FedBN split the one flat vector with these instead of keeping model copies.
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "pagefl/nn/flat_model.h"

namespace pagefl {

// A float [P] tensor, 1 on the selected parameters and 0 elsewhere, with the selected indices.
struct ParamMask {
  torch::Tensor ones;     // float 0/1, for arithmetic (w = w + mask * (v - w))
  torch::Tensor indices;  // int64 positions of the ones, to gather and scatter the selected part

  std::int64_t count() const { return indices.numel(); }
  torch::Tensor complement() const { return 1.0f - ones; }
  // The selected values of a flat vector, and the reverse: write them back into one.
  torch::Tensor gather(const torch::Tensor& flat) const { return flat.index_select(0, indices); }
  void scatter(torch::Tensor& flat, const torch::Tensor& part) const { flat.index_copy_(0, indices, part); }
};

// The last `layers` parameterised modules (a module is a name's prefix before its last '.'): the
// classifier head (algorithm.head_layers). `layers` >= 1 and it must leave a body of at least one
// module; throws pagefl::Error otherwise.
ParamMask headMask(const ParamLayout& layout, std::int64_t layers);

// The last `layers` modules, up to the whole model (FedALA adapts every module of a logistic
// regression). Throws pagefl::Error naming `setting` when the model has fewer modules.
ParamMask lastModulesMask(const ParamLayout& layout, std::int64_t layers, const std::string& setting);

// Normalisation layers' parameters: modules whose name contains "norm" or "bn" (FedBN). Empty
// when the model has none.
ParamMask normMask(const ParamLayout& layout);

}  // namespace pagefl
