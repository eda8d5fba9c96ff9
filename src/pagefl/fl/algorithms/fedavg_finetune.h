// FedAvg + fine-tuning: the reference point for personalisation. Training and aggregation are
// FedAvg's; the personalised model is the received global model fine-tuned on the client's
// train split for algorithm.finetune_epochs at algorithm.finetune_lr (a copy, never uploaded).
//
// Streams: G->L is the received global; P->L and P->S are the fine-tuned copy.
#pragma once

#include "pagefl/fl/algorithms/fedavg.h"

namespace pagefl {

// The personalised model's fine-tuning, shared by FedAvg+FT and FedBABU.
struct FineTuneSettings {
  std::int64_t epochs = 1;
  double lr = 0.0;  // 0: train.lr
  void describe(ConfigFieldVisitor& v) {
    v.integer("algorithm.finetune_epochs", epochs, {0, 1e5},
              "FedAvg+FT, FedBABU: epochs of fine-tuning the global model for the personalised model");
    v.real("algorithm.finetune_lr", lr, {0, 1e4}, "FedAvg+FT, FedBABU: fine-tuning lr (0: train.lr)");
  }
};

// [train]'s options with the fine-tuning epochs and lr.
SgdOptions fineTuneOptions(const Config& config);

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

}  // namespace pagefl
