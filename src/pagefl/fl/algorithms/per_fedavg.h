// Per-FedAvg, first-order version (Fallah et al., NeurIPS 2020): FedAvg whose local steps are
// first-order MAML. Per step, with two fresh minibatches D and D':
//   w' = w - alpha grad f(w; D);   w <- w - beta grad f(w'; D')
// The personalised model is the received global adapted by one step at alpha on one local
// training minibatch, the paper's evaluation protocol.
//
// Hyperparameters: alpha is train.lr; algorithm.perfedavg_beta (0 means train.lr, as PFLlib
// sets beta; the paper tunes it). An epoch takes minibatches in pairs, so it makes half as many
// meta-steps as SGD makes steps; an odd last minibatch is skipped. Plain SGD steps (no momentum).
//
// Streams: G->L the received global; P->L and P->S the one-step adaptation; the upload is w.
#pragma once

#include "pagefl/fl/algorithm.h"

namespace pagefl {

struct PerFedAvgSettings {
  double beta = 0.0;  // 0: train.lr
  void describe(ConfigFieldVisitor& v) {
    v.real("algorithm.perfedavg_beta", beta, {0, 1e4}, "Per-FedAvg: outer (meta) lr (0: train.lr)");
  }
};

class PerFedAvgClient final : public ClientAlgorithm {
 public:
  PerFedAvgClient(SgdOptions sgd, double beta, std::int64_t eval_batch_size)
      : sgd_(sgd), beta_(beta > 0 ? beta : sgd.lr), eval_batch_size_(eval_batch_size) {}
  ClientUpdate run(const ServerMessage& message, ClientContext& context) const override;

 private:
  SgdOptions sgd_;
  double beta_;
  std::int64_t eval_batch_size_;
};

}  // namespace pagefl
