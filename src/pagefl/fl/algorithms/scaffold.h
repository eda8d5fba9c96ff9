// SCAFFOLD (Karimireddy et al., ICML 2020), with the paper's option II control-variate update.
//
// Each client keeps a control variate c_i (in its ClientState, zero at first); the server keeps c
// and sends it every round. Local steps use the corrected gradient g + c - c_i. After K steps at
// lr eta from the global x to y_i:  c_i+ = c_i - c + (x - y_i) / (K eta), and the client uploads
// y_i and delta c_i = c_i+ - c_i. The server sets x += eta_g (avg(y_i) - x) and c += sum(delta c_i) / N.
//
// Hyperparameters: algorithm.server_lr eta_g (default 1, the paper's choice in its experiments);
// local SGD from [train]. The paper averages the y_i uniformly over the round's clients; pagefl
// weights them by sample count, as FedAvg, so that SCAFFOLD with zero variates is FedAvg exactly.
// With momentum in local SGD, K eta no longer measures the step length exactly; the paper has none.
//
// Streams: G->L the received global; P->L the trained y_i (the upload).
#pragma once

#include "pagefl/fl/algorithm.h"

namespace pagefl {

class ScaffoldServer final : public ServerAlgorithm {
 public:
  explicit ScaffoldServer(double server_lr) : server_lr_(server_lr) {}
  void initialise(const torch::Tensor& initial_params, std::int64_t num_clients) override;
  ServerMessage configureRound(std::int64_t round) override;
  Metrics aggregate(std::int64_t round, const std::vector<ClientUpdate>& updates, ServerEvaluator& evaluator) override;
  const torch::Tensor& control() const { return control_; }

 private:
  double server_lr_;
  torch::Tensor control_;
  std::int64_t num_clients_ = 0;
};

class ScaffoldClient final : public ClientAlgorithm {
 public:
  ScaffoldClient(SgdOptions sgd, std::int64_t eval_batch_size) : sgd_(sgd), eval_batch_size_(eval_batch_size) {}
  ClientUpdate run(const ServerMessage& message, ClientContext& context) const override;

 private:
  SgdOptions sgd_;
  std::int64_t eval_batch_size_;
};

}  // namespace pagefl
