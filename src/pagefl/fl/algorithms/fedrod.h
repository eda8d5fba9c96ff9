// Fed-RoD (Chen & Chao, ICLR 2022): one model serves both demands. The shared body and a generic
// head are trained with the balanced softmax loss (logits shifted by the log of the client's
// class counts) and federated; each client also keeps a personal head, and its personalised
// prediction adds the two heads' logits.
//
// The head is the model's last module and must be linear (every pagefl model ends in one). Then
// generic + personal logits equal one linear head whose parameters are the sum, so the personal
// model is a flat vector: body + (generic head + personal head). The personal head is trained as
// that sum with everything else fixed and stored as the difference.
// Ambiguity: the paper updates both heads from each minibatch; pagefl trains the generic model for
// train.epochs and then the personal head for train.epochs on the new body, which keeps each pass
// a plain SGD run. Classes a client lacks get a count of 1e-8 in the balanced loss. The personal
// head starts at zero, so the first personalised model is the generic one.
//
// Streams: G->L the received global; P->L and P->S body + summed heads; the upload is the
// generic model.
#pragma once

#include "pagefl/fl/algorithm.h"

namespace pagefl {

class FedRodClient final : public ClientAlgorithm {
 public:
  FedRodClient(SgdOptions sgd, std::int64_t eval_batch_size) : sgd_(sgd), eval_batch_size_(eval_batch_size) {}
  ClientUpdate run(const ServerMessage& message, ClientContext& context) const override;

 private:
  SgdOptions sgd_;
  std::int64_t eval_batch_size_;
};

}  // namespace pagefl
