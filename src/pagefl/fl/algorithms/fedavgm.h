// FedAvgM (Hsu et al., 2019, "Measuring the effects of non-identical data distribution"): FedAvg
// with server momentum. The round's pseudo-gradient d = theta - avg(uploads) feeds
//   v <- beta v + d,   theta <- theta - eta_g v.
// Hyperparameters: algorithm.server_momentum beta (default 0.9, the paper's usual value) and
// algorithm.server_lr eta_g (default 1). beta = 0 and eta_g = 1 is FedAvg exactly. Clients are
// FedAvg's, so the streams are too.
#pragma once

#include "pagefl/fl/algorithm.h"

namespace pagefl {

// The server's step size on the round's pseudo-gradient, shared by FedAvgM and SCAFFOLD.
struct ServerStepSettings {
  double lr = 1.0;
  void describe(ConfigFieldVisitor& v) {
    v.real("algorithm.server_lr", lr, {0, 1e4}, "SCAFFOLD, FedAvgM: server (global) step size");
  }
};

struct FedAvgMSettings {
  double momentum = 0.9;
  void describe(ConfigFieldVisitor& v) {
    v.real("algorithm.server_momentum", momentum, {0, 0.999999}, "FedAvgM: server momentum beta");
  }
};

class FedAvgMServer final : public ServerAlgorithm {
 public:
  FedAvgMServer(double server_lr, double momentum) : server_lr_(server_lr), momentum_(momentum) {}
  void initialise(const torch::Tensor& initial_params, std::int64_t num_clients) override;
  Metrics aggregate(std::int64_t round, const std::vector<ClientUpdate>& updates, ServerEvaluator& evaluator) override;

 private:
  double server_lr_, momentum_;
  torch::Tensor velocity_;
};

}  // namespace pagefl
