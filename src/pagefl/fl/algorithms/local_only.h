// Local-only training: the lower reference point of personalisation. Each client trains its own
// model (kept in the ClientState store, starting from the common initial model) and never uploads;
// the global model stays at its initialisation.
//
// Streams: G->L is the (untrained) global; P->L is the client's own model.
#pragma once

#include "pagefl/fl/algorithm.h"
#include "pagefl/fl/algorithms/fedavg.h"

namespace pagefl {

// FedAvg's server, which leaves the global model unchanged in rounds without uploads.
class LocalOnlyServer final : public FedAvgServer {
 public:
  bool expectsModels() const override { return false; }
};

class LocalOnlyClient final : public ClientAlgorithm {
 public:
  LocalOnlyClient(SgdOptions sgd, std::int64_t eval_batch_size) : sgd_(sgd), eval_batch_size_(eval_batch_size) {}
  ClientUpdate run(const ServerMessage& message, ClientContext& context) const override;

 private:
  SgdOptions sgd_;
  std::int64_t eval_batch_size_;
};

}  // namespace pagefl
