#include "pagefl/fl/algorithms/fedavg.h"

#include <torch/torch.h>

#include "pagefl/fl/aggregation.h"
#include "pagefl/fl/streams.h"

namespace pagefl {

Metrics FedAvgServer::aggregate(std::int64_t, const std::vector<ClientUpdate>& updates, ServerEvaluator&) {
  std::vector<torch::Tensor> params;
  std::vector<double> weights;
  for (const ClientUpdate& update : updates) {
    if (!update.params.defined()) continue;
    params.push_back(update.params);
    weights.push_back(static_cast<double>(update.num_samples));
  }
  if (!params.empty()) global_ = weightedAverage(params, weights);
  return {};
}

ClientUpdate FedAvgClient::trainFromGlobal(const ServerMessage& message, ClientContext& context) const {
  ClientUpdate update;
  update.client = context.client;
  update.round = message.round;
  FlatModel& model = context.model;
  model.load(message.global);
  if (message.evaluate)
    streams::record(update.metrics, streams::kGlobalOnLocal, evaluate(model, context.test, eval_batch_size_));

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
  TrainStats stats = trainSgd(model, context.train, sgd_, rng, proximal);
  update.params = model.snapshot();
  update.num_samples = context.train.size();
  update.metrics["train_loss"] = stats.mean_loss;
  update.metrics["train_samples"] = static_cast<double>(stats.samples);
  return update;
}

ClientUpdate FedAvgClient::run(const ServerMessage& message, ClientContext& context) const {
  ClientUpdate update = trainFromGlobal(message, context);
  if (message.evaluate)
    streams::record(update.metrics, streams::kPersonalOnLocal, evaluate(context.model, context.test, eval_batch_size_));
  return update;
}

}  // namespace pagefl
