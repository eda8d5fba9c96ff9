// Federated Reconstruction (Singhal et al., NeurIPS 2021): the head (the last
// algorithm.head_layers modules) is local and never stored: each round a client rebuilds it from
// the global model's initial head by training the head alone on a support split, then trains the
// body alone on a disjoint query split and uploads the body. Because uploads carry the received
// head unchanged, the global head stays at its initial values: every reconstruction starts fresh.
//
// Held-out evaluation clients: a share algorithm.fedrecon_eval_fraction (default 0.2) of the
// clients, spread evenly over client ids, never train the body or upload. They reconstruct on
// their whole train split and are evaluated, as the paper measures unseen clients.
//
// Hyperparameters: algorithm.fedrecon_epochs reconstruction epochs (default 1, the paper's one
// pass); body epochs are train.epochs. Support is the first half of a client's train split, query
// the second (the paper splits each client's data the same way); a client with one sample uses it
// for both.
//
// Streams: G->L the received global (initial head); P->L and P->S the body with the reconstructed
// head; the upload is the trained body with the received head.
#pragma once

#include "pagefl/fl/algorithm.h"

namespace pagefl {

struct FedReconSettings {
  std::int64_t epochs = 1;
  double eval_fraction = 0.2;
  void describe(ConfigFieldVisitor& v) {
    v.integer("algorithm.fedrecon_epochs", epochs, {1, 1e5}, "FedRecon: reconstruction epochs of the head");
    v.real("algorithm.fedrecon_eval_fraction", eval_fraction, {0, 0.99},
           "FedRecon: share of clients held out of training, only reconstructing and evaluating");
  }
};

// Whether `client` is one of the held-out evaluation clients at this share.
bool isFedReconEvaluationClient(std::int64_t client, double eval_fraction);

class FedReconClient final : public ClientAlgorithm {
 public:
  FedReconClient(SgdOptions sgd, std::int64_t head_layers, std::int64_t recon_epochs, double eval_fraction,
                 std::int64_t eval_batch_size)
      : sgd_(sgd), head_layers_(head_layers), recon_epochs_(recon_epochs), eval_fraction_(eval_fraction),
        eval_batch_size_(eval_batch_size) {}
  ClientUpdate run(const ServerMessage& message, ClientContext& context) const override;

 private:
  SgdOptions sgd_;
  std::int64_t head_layers_, recon_epochs_;
  double eval_fraction_;
  std::int64_t eval_batch_size_;
};

}  // namespace pagefl
