// pFedMe (T. Dinh et al., NeurIPS 2020): personalisation with Moreau envelopes.
//
// For every local minibatch the client first approximates the personal model
//   theta = argmin  f(theta; batch) + (lambda/2) ||theta - w||^2
// with K gradient steps at the personal lr, then moves its local copy of the global model:
//   w <- w - eta lambda (w - theta).
// It uploads w; the server mixes  w_global <- (1 - beta) w_global + beta avg(w_k).
//
// Hyperparameters: algorithm.pfedme_lambda (default 15), pfedme_steps K (5),
// pfedme_personal_lr (0.01), pfedme_beta (1: plain averaging), from the paper's MNIST settings;
// eta is train.lr. Steps are plain SGD (no momentum) with [train]'s weight decay and clipping.
// Ambiguity: implementations differ on where theta starts. pagefl starts it at the received global
// each round and carries it from one minibatch to the next, as the authors' code does within a
// round; nothing persists between rounds. Averaging is sample-weighted, as FedAvg.
//
// Streams: G->L the received global; P->L and P->S the last personal theta; the upload is w.
#pragma once

#include "pagefl/fl/algorithm.h"

namespace pagefl {

struct PFedMeOptions {
  double lambda = 15.0;
  std::int64_t steps = 5;
  double personal_lr = 0.01;
  double beta = 1.0;
  void describe(ConfigFieldVisitor& v) {
    v.real("algorithm.pfedme_lambda", lambda, {0, 1e6}, "pFedMe: Moreau-envelope weight lambda");
    v.integer("algorithm.pfedme_steps", steps, {1, 1e4}, "pFedMe: inner steps K per minibatch");
    v.real("algorithm.pfedme_personal_lr", personal_lr, {0, 1e4}, "pFedMe: personal (inner) lr");
    v.real("algorithm.pfedme_beta", beta, {0, 1e4}, "pFedMe: server mixing beta (1: plain average)");
  }
};

class PFedMeServer final : public ServerAlgorithm {
 public:
  explicit PFedMeServer(double beta) : beta_(beta) {}
  Metrics aggregate(std::int64_t round, const std::vector<ClientUpdate>& updates, ServerEvaluator& evaluator) override;

 private:
  double beta_;
};

class PFedMeClient final : public ClientAlgorithm {
 public:
  PFedMeClient(SgdOptions sgd, PFedMeOptions options, std::int64_t eval_batch_size)
      : sgd_(sgd), options_(options), eval_batch_size_(eval_batch_size) {}
  ClientUpdate run(const ServerMessage& message, ClientContext& context) const override;

 private:
  SgdOptions sgd_;
  PFedMeOptions options_;
  std::int64_t eval_batch_size_;
};

}  // namespace pagefl
