// FedAvg + fine-tuning: the reference point for personalisation. Training and aggregation are
// FedAvg's; the personalised model is the received global model fine-tuned on the client's
// train split for algorithm.finetune_epochs at algorithm.finetune_lr (a copy, never uploaded).
//
// Streams: G->L is the received global; P->L is the fine-tuned copy.
#pragma once

#include "pagefl/fl/algorithms/fedavg.h"

namespace pagefl {

class FedAvgFineTuneClient final : public FedAvgClient {
 public:
  FedAvgFineTuneClient(SgdOptions sgd, SgdOptions finetune, std::int64_t eval_batch_size)
      : FedAvgClient(sgd, eval_batch_size, 0.0), finetune_(finetune) {}
  ClientUpdate run(const ServerMessage& message, ClientContext& context) const override;

 private:
  SgdOptions finetune_;
};

}  // namespace pagefl
