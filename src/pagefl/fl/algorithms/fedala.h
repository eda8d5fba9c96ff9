// FedALA (Zhang et al., AAAI 2023): adaptive local aggregation. Instead of overwriting its local
// model with the received global, a client blends the two element-wise in its higher layers:
//   theta = local + (global - local) * W,   W in [0, 1], one weight per parameter,
// and takes the global values in its lower layers. W is learnt by SGD on a random share of the
// local training data: dL/dW = dL/dtheta * (global - local), then clipped to [0, 1]. Local
// training starts from theta; the trained model is kept as the next round's local model and
// uploaded. The server averages as FedAvg.
//
// Hyperparameters (the authors' defaults): algorithm.fedala_eta 1.0 (lr of W),
// fedala_data_fraction 0.8 (their rand_percent 80), fedala_layers 1 (the last module, their
// layer_idx 2 counts the weight and bias tensors), fedala_threshold 0.1 and fedala_history 10.
// Up to every module may be adapted (a logistic regression has one).
// W starts at 1 (the global model) and persists per client. On the first blending round W is
// learnt until the std of the last fedala_history losses drops below the threshold, as the
// authors' code does; pagefl also stops after 50 passes so a noisy loss cannot hang the client.
// Later rounds take one pass. The first round has no local model and starts from the global.
//
// Streams: G->L the received global; P->L and P->S the trained local model (the upload).
#pragma once

#include "pagefl/fl/local_sgd_client.h"
#include "pagefl/nn/param_mask.h"

namespace pagefl {

struct FedAlaOptions {
  double eta = 1.0;
  double data_fraction = 0.8;
  std::int64_t layers = 1;
  double threshold = 0.1;
  std::int64_t history = 10;
  void describe(ConfigFieldVisitor& v) {
    v.real("algorithm.fedala_eta", eta, {0, 1e4}, "FedALA: lr of the aggregation weights");
    v.real("algorithm.fedala_data_fraction", data_fraction, {1e-9, 1.0},
           "FedALA: share of local training data used to learn the weights");
    v.integer("algorithm.fedala_layers", layers, {1, 1e4}, "FedALA: last modules adapted element-wise");
    v.real("algorithm.fedala_threshold", threshold, {0, 1e4},
           "FedALA: loss std below which the first weight learning stops");
    v.integer("algorithm.fedala_history", history, {2, 1e4},
              "FedALA: recent losses whose std is checked against the threshold");
  }
};

// The blend of the adapted part: local + (global - local) * weights.
torch::Tensor fedAlaBlend(const torch::Tensor& local, const torch::Tensor& global, const torch::Tensor& weights);
// One step on the weights, given the loss gradient at the blend: clip(W - eta g (global - local), 0, 1).
void fedAlaWeightStep(torch::Tensor& weights, const torch::Tensor& grad_at_blend, const torch::Tensor& local,
                      const torch::Tensor& global, double eta);

// The blend is learnt before training, one client at a time; the local training from it is
// plain SGD, which the simulator stacks with other clients'.
class FedAlaClient final : public LocalSgdClient {
 public:
  FedAlaClient(SgdOptions sgd, FedAlaOptions options, std::int64_t eval_batch_size)
      : sgd_(sgd), options_(options), eval_batch_size_(eval_batch_size) {}
  LocalSgdJob prepare(const ServerMessage& message, ClientContext& context) const override;
  ClientUpdate finish(const ServerMessage& message, ClientContext& context, LocalSgdJob& job,
                      const TrainStats& stats) const override;

 private:
  // Learns the client's weights and returns the blended starting point (context.model is left
  // in any state).
  torch::Tensor blend(const ServerMessage& message, ClientContext& context, const ParamMask& adapted,
                      const torch::Tensor& local) const;

  SgdOptions sgd_;
  FedAlaOptions options_;
  std::int64_t eval_batch_size_;
};

}  // namespace pagefl
