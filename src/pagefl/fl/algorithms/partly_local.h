// Algorithms that keep part of the model on the client and federate the rest, the part chosen by
// a mask over the flat layout (param_mask.h):
//
// FedPer (Arivazhagan et al., 2019): the head (the last algorithm.head_layers modules, default 1)
//   stays local; body and head train together for train.epochs.
// FedRep (Collins et al., ICML 2021): the head stays local; each round trains the head alone for
//   algorithm.fedrep_head_epochs (default 10, the paper's), then the body alone for train.epochs.
// FedBN (Li et al., ICLR 2021): the normalisation layers' parameters stay local; the model needs
//   some (model.name = "cnn-gn" or "resnet18-gn"). Note: with GroupNorm these are the affine
//   parameters; there are no running statistics to keep.
//
// The local part starts as the first received global's. Clients upload the whole vector and the
// server averages all of it as FedAvg, so the global model has a head (or normalisation layers)
// for G->S: the average of the clients'. Clients never load that part back.
//
// Streams: G->L the received global as it is; P->L and P->S the trained model with the client's
// own part; the upload is the same vector.
#pragma once

#include "pagefl/fl/algorithm.h"

namespace pagefl {

// The head's size, shared by the algorithms that keep a head local or apart (FedPer, FedRep,
// FedBABU, FedRecon).
struct HeadSettings {
  std::int64_t layers = 1;
  void describe(ConfigFieldVisitor& v) {
    v.integer("algorithm.head_layers", layers, {1, 1e4},
              "FedPer, FedRep, FedBABU, FedRecon: last modules forming the head");
  }
};

struct FedRepSettings {
  std::int64_t head_epochs = 10;
  void describe(ConfigFieldVisitor& v) {
    v.integer("algorithm.fedrep_head_epochs", head_epochs, {0, 1e5}, "FedRep: head epochs before the body's");
  }
};

enum class LocalPart { Head, Normalisation };
enum class LocalSchedule { Joint, HeadThenBody };

class PartlyLocalClient final : public ClientAlgorithm {
 public:
  PartlyLocalClient(LocalPart part, LocalSchedule schedule, SgdOptions sgd, std::int64_t head_layers,
                    std::int64_t head_epochs, std::int64_t eval_batch_size)
      : part_(part), schedule_(schedule), sgd_(sgd), head_layers_(head_layers), head_epochs_(head_epochs),
        eval_batch_size_(eval_batch_size) {}
  ClientUpdate run(const ServerMessage& message, ClientContext& context) const override;

 private:
  LocalPart part_;
  LocalSchedule schedule_;
  SgdOptions sgd_;
  std::int64_t head_layers_, head_epochs_, eval_batch_size_;
};

}  // namespace pagefl
