// Local SGD for many clients of one small fully connected model (logistic regression, MLP) at
// once. Their parameters are stacked into [C, out, in] tensors and each minibatch step is one
// batched matrix product per layer for all of them: at these sizes a step costs mostly
// per-operation overhead, which the stack pays once for C clients instead of C times.
//
// Every client keeps what trainSgd gives it: its own data order (drawn from its own generator
// exactly as trainSgd draws it), learning rate, epochs, batch size, weight decay, per-client
// gradient clipping and FedProx's proximal term. Results equal trainSgd's up to float rounding
// (the batched products sum in another order); tests/stacked_sgd_test.cpp states the tolerance.
#pragma once

#include <torch/types.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "pagefl/data/dataset.h"
#include "pagefl/nn/flat_model.h"
#include "pagefl/nn/local_training.h"

namespace pagefl {

struct StackedSgdJob {
  Dataset train;
  torch::Tensor start;                 // flat parameters [P] to train from
  SgdOptions sgd;                      // see whyNotStackable(SgdOptions)
  std::mt19937_64* shuffle = nullptr;  // advanced as trainSgd advances it
  double proximal_mu = 0.0;            // FedProx: mu (w - centre) added to every minibatch gradient
  torch::Tensor centre;                // needed when proximal_mu > 0
};

struct StackedSgdResult {
  torch::Tensor params;  // flat [P]
  TrainStats stats;
};

// Why a model cannot be stacked, or nullopt when it can (logreg and mlp can).
std::optional<std::string> whyNotStackable(const ModelSpec& spec);
// Why a job's options cannot be stacked: momentum, a trainable mask or a logit offset.
std::optional<std::string> whyNotStackable(const SgdOptions& options);

// Trains every job; `layout` is the model's (alternating [out, in] weights and [out] biases).
// Throws pagefl::Error on a job it cannot run.
std::vector<StackedSgdResult> trainStacked(const ParamLayout& layout, std::vector<StackedSgdJob>& jobs);

// A job's minibatch steps, as trainSgd would take them.
std::int64_t stepsOf(const StackedSgdJob& job);

}  // namespace pagefl
