// APFL (Deng et al., 2020, "Adaptive Personalized Federated Learning").
//
// Each client keeps a local model v (in ClientState, the first received global at first) and a
// mixing weight alpha. Its personalised model is the mixture  vbar = alpha v + (1 - alpha) w.
// Per minibatch, with the gradients taken at the old points:
//   w     <- w - eta grad f(w)
//   v     <- v - eta alpha grad f(vbar)
//   alpha <- clamp(alpha - eta <v - w, grad f(vbar)>, 0, 1)     (when adaptive)
// It uploads w; the server averages as FedAvg.
//
// Hyperparameters: algorithm.apfl_alpha (initial alpha, default 0.25, one of the paper's
// settings) and algorithm.apfl_adaptive (default true, the paper's adaptive variant); eta is
// train.lr. Steps are plain SGD (no momentum) with [train]'s weight decay and clipping.
//
// Streams: G->L the received global; P->L and P->S the mixture vbar; the upload is w.
#pragma once

#include "pagefl/fl/algorithm.h"

namespace pagefl {

struct ApflSettings {
  double alpha = 0.25;
  bool adaptive = true;
  void describe(ConfigFieldVisitor& v) {
    v.real("algorithm.apfl_alpha", alpha, {0, 1}, "APFL: initial mixing weight of the local model");
    v.flag("algorithm.apfl_adaptive", adaptive, "APFL: learn the mixing weight by gradient descent");
  }
};

// The mixture alpha v + (1 - alpha) w.
torch::Tensor apflMixture(const torch::Tensor& local, const torch::Tensor& global, double alpha);

class ApflClient final : public ClientAlgorithm {
 public:
  ApflClient(SgdOptions sgd, double alpha, bool adaptive, std::int64_t eval_batch_size)
      : sgd_(sgd), initial_alpha_(alpha), adaptive_(adaptive), eval_batch_size_(eval_batch_size) {}
  ClientUpdate run(const ServerMessage& message, ClientContext& context) const override;

 private:
  SgdOptions sgd_;
  double initial_alpha_;
  bool adaptive_;
  std::int64_t eval_batch_size_;
};

}  // namespace pagefl
