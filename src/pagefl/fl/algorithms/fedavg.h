// FedAvg (McMahan et al., AISTATS 2017) and FedProx (Li et al., MLSys 2020).
//
// FedAvg: clients run local SGD from the global model; the server takes the average of the
// uploads weighted by local training samples.
// FedProx: FedAvg plus the proximal term (mu/2)||w - w_global||^2 in every local step, whose
// gradient mu (w - w_global) is added to each minibatch gradient. mu = 0 is FedAvg exactly.
//
// Streams: G->L is the received global model; P->L is the freshly trained local model (the
// "personalised" model of plain FedAvg is the global model after its local epochs).
#pragma once

#include "pagefl/fl/algorithm.h"
#include "pagefl/fl/local_sgd_client.h"

namespace pagefl {

struct FedProxSettings {
  double mu = 0.01;
  void describe(ConfigFieldVisitor& v) { v.real("algorithm.fedprox_mu", mu, {.min = 0}, "FedProx proximal weight mu"); }
};

// With a robust rule or clipping ([robust]), the fold keeps the round's uploads until it
// finishes, since those need every update at once.
class FedAvgServer : public ServerAlgorithm, public WeightedAggregation {
 public:
  explicit FedAvgServer(RobustConfig robust = {}) : robust_(std::move(robust)) {}
  // Rounds without any upload (e.g. local-only training) leave the global model unchanged.
  Metrics aggregate(std::int64_t round, const std::vector<ClientUpdate>& updates, ServerEvaluator& evaluator) override;
  std::unique_ptr<UpdateFold> beginFold(std::int64_t round) override;
  // Sample counts as weights; none under a robust rule, which needs the uploads themselves.
  WeightedAggregation* weightedAggregation() override;
  std::optional<std::int64_t> uploadScoreSamples() const override { return std::nullopt; }
  std::vector<double> weigh(std::int64_t round, const std::vector<UploadFacts>& uploads) override;
  Metrics finish(std::int64_t round, BlockedSum& sum, ServerEvaluator& evaluator) override;

 private:
  RobustConfig robust_;
};

class FedAvgClient : public LocalSgdClient {
 public:
  FedAvgClient(SgdOptions sgd, std::int64_t eval_batch_size, double proximal_mu)
      : sgd_(sgd), eval_batch_size_(eval_batch_size), mu_(proximal_mu) {}
  // Loads the global model, records G->L and sets out the local SGD.
  LocalSgdJob prepare(const ServerMessage& message, ClientContext& context) const override;
  // The upload, and P->L of the trained model.
  ClientUpdate finish(const ServerMessage& message, ClientContext& context, LocalSgdJob& job,
                      const TrainStats& stats) const override;

 protected:
  // The update with the training recorded and the trained model (in context.model) as its upload.
  static ClientUpdate packUpload(ClientContext& context, LocalSgdJob& job, const TrainStats& stats);
  std::int64_t evalBatchSize() const { return eval_batch_size_; }
  // The local SGD options of this client's round (FedBABU freezes the head here).
  virtual SgdOptions localOptions(const ClientContext&) const { return sgd_; }

 private:
  SgdOptions sgd_;
  std::int64_t eval_batch_size_;
  double mu_;
};

}  // namespace pagefl
