#include "pagefl/fl/algorithms/fedavg.h"

#include <torch/torch.h>

#include "pagefl/fl/aggregation.h"
#include "pagefl/fl/algorithms/client_round.h"
#include "pagefl/fl/streams.h"

namespace pagefl {

namespace {

class FedAvgFold final : public UpdateFold {
 public:
  explicit FedAvgFold(torch::Tensor& global) : global_(global) {}
  void add(const ClientUpdate& update) override { sum_.addUpload(update); }
  Metrics finish() override {
    if (!sum_.empty()) global_ = sum_.average();
    return {};
  }

 private:
  torch::Tensor& global_;
  WeightedSum sum_;
};

}  // namespace

Metrics FedAvgServer::aggregate(std::int64_t round, const std::vector<ClientUpdate>& updates, ServerEvaluator&) {
  auto fold = beginFold(round);
  for (const ClientUpdate& update : updates) fold->add(update);
  return fold->finish();
}

std::unique_ptr<UpdateFold> FedAvgServer::beginFold(std::int64_t) { return std::make_unique<FedAvgFold>(global_); }

ClientUpdate FedAvgClient::trainFromGlobal(const ServerMessage& message, ClientContext& context) const {
  ClientUpdate update = openUpdate(message, context);
  loadGlobalAndScore(update, message, context, eval_batch_size_);
  GradientHook proximal;
  if (mu_ > 0) {
    const torch::Tensor& centre = message.global;
    const double mu = mu_;
    proximal = [&centre, mu](FlatModel& m) {
      m.grads().add_(m.params(), mu);  // in place: grads += mu * (w - w_global)
      m.grads().add_(centre, -mu);
    };
  }
  auto rng = context.streams.engine(Purpose::Shuffle, message.round, context.client);
  recordTraining(update, trainSgd(context.model, context.train, localOptions(context), rng, proximal), context);
  update.params = context.model.snapshot();
  return update;
}

ClientUpdate FedAvgClient::run(const ServerMessage& message, ClientContext& context) const {
  ClientUpdate update = trainFromGlobal(message, context);
  if (message.evaluate)
    streams::record(update.metrics, streams::kPersonalOnLocal, evaluate(context.model, context.test, eval_batch_size_));
  return update;
}

}  // namespace pagefl
