// Ditto (Li et al., ICML 2021): a global model trained as FedAvg, plus a persistent personal model
// v_k per client trained with the proximal term (lambda/2)||v_k - w||^2 towards the received
// global w, whose gradient lambda (v_k - w) is added to every personal step.
//
// Hyperparameters: algorithm.ditto_lambda (default 0.1, from the paper's grid 0.01-2); both
// models take train.epochs of local SGD with [train]'s options.
// Ambiguity: the paper's Algorithm 1 updates the global copy first, PFLlib trains the personal
// model first. Both start from the received w and the personal step's centre is that same w, so
// the order changes nothing but which random stream shuffles which pass. pagefl trains the
// personal model first (shuffled from the FineTuneShuffle stream), then the global copy.
// v_k starts as the first global model the client receives. The two trainings are independent,
// so the simulator stacks them with other clients' (LocalSgdClient's side training).
//
// Streams: G->L the received w; P->L and P->S the personal model v_k; the upload is the trained
// global copy.
#pragma once

#include "pagefl/fl/local_sgd_client.h"

namespace pagefl {

struct DittoSettings {
  double lambda = 0.1;
  void describe(ConfigFieldVisitor& v) {
    v.real("algorithm.ditto_lambda", lambda, {0, 1e6}, "Ditto: proximal weight lambda");
  }
};

class DittoClient final : public LocalSgdClient {
 public:
  DittoClient(SgdOptions sgd, double lambda, std::int64_t eval_batch_size)
      : sgd_(sgd), lambda_(lambda), eval_batch_size_(eval_batch_size) {}
  LocalSgdJob prepare(const ServerMessage& message, ClientContext& context) const override;
  ClientUpdate finish(const ServerMessage& message, ClientContext& context, LocalSgdJob& job,
                      const TrainStats& stats) const override;

 private:
  SgdOptions sgd_;
  double lambda_;
  std::int64_t eval_batch_size_;
};

}  // namespace pagefl
