#include "pagefl/fl/algorithms/fedavg.h"

#include <torch/torch.h>

#include "pagefl/fl/aggregation.h"
#include "pagefl/fl/algorithms/client_round.h"
#include "pagefl/fl/streams.h"

namespace pagefl {

Metrics FedAvgServer::aggregate(std::int64_t, const std::vector<ClientUpdate>& updates, ServerEvaluator&) {
  if (auto average = sampleWeightedAverage(updates)) global_ = *average;
  return {};
}

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
