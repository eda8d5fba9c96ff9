// FedDyn (Acar et al., ICLR 2021): dynamic regularisation.
//
// Client k minimises  L_k(t) - <g_k, t> + (alpha/2) ||t - theta||^2  from the received theta, where
// g_k (its "linear term", kept in ClientState, zero at first) is updated after training to
// g_k - alpha (t_k - theta). The server keeps h (zero at first):
//   h     <- h - alpha (1/N) sum over the round's clients of (t_k - theta)
//   theta <- mean(t_k) - h / alpha.
// Hyperparameters: algorithm.feddyn_alpha (default 0.01, from the paper's range 0.1-0.001).
// The server's mean is uniform over the round's clients, as in the paper (not sample-weighted).
//
// Streams: G->L the received theta; P->L the trained t_k (the upload).
#pragma once

#include "pagefl/fl/algorithm.h"

namespace pagefl {

struct FedDynSettings {
  double alpha = 0.01;
  void describe(ConfigFieldVisitor& v) {
    v.real("algorithm.feddyn_alpha", alpha, {1e-12, 1e4}, "FedDyn: regulariser weight alpha");
  }
};

class FedDynServer final : public ServerAlgorithm {
 public:
  explicit FedDynServer(double alpha) : alpha_(alpha) {}
  void initialise(const torch::Tensor& initial_params, std::int64_t num_clients) override;
  Metrics aggregate(std::int64_t round, const std::vector<ClientUpdate>& updates, ServerEvaluator& evaluator) override;

 private:
  double alpha_;
  torch::Tensor h_;
  std::int64_t num_clients_ = 0;
};

class FedDynClient final : public ClientAlgorithm {
 public:
  FedDynClient(SgdOptions sgd, double alpha, std::int64_t eval_batch_size)
      : sgd_(sgd), alpha_(alpha), eval_batch_size_(eval_batch_size) {}
  ClientUpdate run(const ServerMessage& message, ClientContext& context) const override;

 private:
  SgdOptions sgd_;
  double alpha_;
  std::int64_t eval_batch_size_;
};

}  // namespace pagefl
