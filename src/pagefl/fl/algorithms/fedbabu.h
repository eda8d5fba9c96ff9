// FedBABU (Oh et al., ICLR 2022): FedAvg with the head (the last algorithm.head_layers modules)
// frozen at its initial values during federation, so only the body is learnt and averaged; the
// personalised model is the received global with the whole model fine-tuned, as FedAvg+FT does
// (algorithm.finetune_epochs, default 1, and finetune_lr). The paper fine-tunes for a few epochs at
// the end of training; pagefl fine-tunes a copy on every evaluated round, so the P->L curve shows
// what fine-tuning would give at that point.
// Streams: G->L the received global (body and initial head); P->L and P->S the fine-tuned copy.
#pragma once

#include "pagefl/fl/algorithms/fedavg_finetune.h"

namespace pagefl {

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
