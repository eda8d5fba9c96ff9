// FedAvg + fine-tuning: the reference point for personalisation. Training and aggregation are
// FedAvg's; the personalised model is the received global model fine-tuned on the client's
// train split for algorithm.finetune_epochs at algorithm.finetune_lr (a copy, never uploaded).
//
// Streams: G->L is the received global; P->L and P->S are the fine-tuned copy.
#pragma once

#include "pagefl/fl/algorithms/fedavg.h"

namespace pagefl {

class FedAvgFineTuneClient : public FedAvgClient {
 public:
  FedAvgFineTuneClient(SgdOptions sgd, SgdOptions finetune, std::int64_t eval_batch_size)
      : FedAvgClient(sgd, eval_batch_size, 0.0), finetune_(finetune) {}
  // FedAvg's upload; on evaluated rounds the fine-tuned copy of the received model is P->L.
  ClientUpdate finish(const ServerMessage& message, ClientContext& context, LocalSgdJob& job,
                      const TrainStats& stats) const override;

 private:
  SgdOptions finetune_;
};

// FedBABU (Oh et al., ICLR 2022): FedAvg with the head (the last algorithm.head_layers modules)
// frozen at its initial values during federation, so only the body is learnt and averaged; the
// personalised model is the received global with the whole model fine-tuned, as FedAvg+FT does
// (algorithm.finetune_epochs, default 1, and finetune_lr). The paper fine-tunes for a few epochs at
// the end of training; pagefl fine-tunes a copy on every evaluated round, so the P->L curve shows
// what fine-tuning would give at that point.
// Streams: G->L the received global (body and initial head); P->L and P->S the fine-tuned copy.
class FedBabuClient final : public FedAvgFineTuneClient {
 public:
  FedBabuClient(SgdOptions sgd, SgdOptions finetune, std::int64_t head_layers, std::int64_t eval_batch_size)
      : FedAvgFineTuneClient(sgd, finetune, eval_batch_size), head_layers_(head_layers) {}

 protected:
  SgdOptions localOptions(const ClientContext& context) const override;

 private:
  std::int64_t head_layers_;
};

}  // namespace pagefl
