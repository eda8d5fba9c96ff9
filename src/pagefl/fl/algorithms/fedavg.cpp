#include "pagefl/fl/algorithms/fedavg.h"

#include <torch/torch.h>

#include "pagefl/fl/aggregation.h"
#include "pagefl/fl/algorithms/client_round.h"
#include "pagefl/fl/robust_aggregation.h"
#include "pagefl/fl/streams.h"

namespace pagefl {

namespace {

class FedAvgFold final : public UpdateFold {
 public:
  explicit FedAvgFold(torch::Tensor& global) : global_(global) {}
  void add(const ClientUpdate& update) override {
    sum_.add(update.client, update.params, static_cast<double>(update.num_samples));
  }
  Metrics finish() override {
    if (!sum_.empty()) global_ = sum_.average();
    return {};
  }

 private:
  torch::Tensor& global_;
  BlockedSum sum_;
};

// FedAvg's weights (sample counts) under a robust rule: the uploads are kept until the round ends.
class RobustFold final : public UpdateFold {
 public:
  RobustFold(torch::Tensor& global, const RobustConfig& robust) : global_(global), robust_(robust) {}
  void add(const ClientUpdate& update) override {
    if (!update.params.defined()) return;
    params_.push_back(update.params);
    weights_.push_back(static_cast<double>(update.num_samples));
  }
  Metrics finish() override {
    Metrics metrics;
    if (!params_.empty()) global_ = robustAggregate(std::move(params_), weights_, global_, robust_, metrics);
    return metrics;
  }

 private:
  torch::Tensor& global_;
  const RobustConfig& robust_;
  std::vector<torch::Tensor> params_;
  std::vector<double> weights_;
};

}  // namespace

Metrics FedAvgServer::aggregate(std::int64_t round, const std::vector<ClientUpdate>& updates, ServerEvaluator&) {
  auto fold = beginFold(round);
  for (const ClientUpdate& update : updates) fold->add(update);
  return fold->finish();
}

std::unique_ptr<UpdateFold> FedAvgServer::beginFold(std::int64_t) {
  if (robustAtAggregation(robust_)) return std::make_unique<RobustFold>(global_, robust_);
  return std::make_unique<FedAvgFold>(global_);
}

WeightedAggregation* FedAvgServer::weightedAggregation() { return robustAtAggregation(robust_) ? nullptr : this; }

std::vector<double> FedAvgServer::weigh(std::int64_t, const std::vector<UploadFacts>& uploads) {
  std::vector<double> weights;
  for (const UploadFacts& upload : uploads) weights.push_back(static_cast<double>(upload.num_samples));
  return weights;
}

Metrics FedAvgServer::finish(std::int64_t, BlockedSum& sum, ServerEvaluator&) {
  if (!sum.empty()) global_ = sum.average();  // the same sum FedAvgFold adds up
  return {};
}

LocalSgdJob FedAvgClient::prepare(const ServerMessage& message, ClientContext& context) const {
  LocalSgdJob job{.update = openUpdate(message, context),
                  .sgd = localOptions(context),
                  .shuffle = context.streams.engine(Purpose::Shuffle, message.round, context.client),
                  .proximal_mu = mu_};
  loadGlobalAndScore(job.update, message, context, eval_batch_size_);
  return job;
}

ClientUpdate FedAvgClient::packUpload(ClientContext& context, LocalSgdJob& job, const TrainStats& stats) {
  ClientUpdate update = std::move(job.update);
  recordTraining(update, stats, context);
  update.params = context.model.snapshot();
  return update;
}

ClientUpdate FedAvgClient::finish(const ServerMessage& message, ClientContext& context, LocalSgdJob& job,
                                  const TrainStats& stats) const {
  ClientUpdate update = packUpload(context, job, stats);
  if (message.evaluate)
    streams::record(update.metrics, streams::kPersonalOnLocal, evaluate(context.model, context.test, eval_batch_size_));
  return update;
}

namespace {

const SettingsRegistration<FedProxSettings> kFedProxSettings("fedprox");

const AlgorithmRegistration kFedAvg(
    {"fedavg", "FedAvg (McMahan et al., AISTATS 2017): local SGD, sample-weighted average", {}},
    [](const Config& config) {
      return Algorithm{std::make_unique<FedAvgServer>(config.robust),
                       std::make_unique<FedAvgClient>(sgdOptions(config.train), config.eval.batch_size, 0.0)};
    });

const AlgorithmRegistration kFedProx(
    {"fedprox",
     "FedProx (Li et al., MLSys 2020): FedAvg with a proximal term mu in every local step",
     {{"algorithm.fedprox_mu", 1e-3, 1, true, false}}},
    [](const Config& config) {
      return Algorithm{std::make_unique<FedAvgServer>(config.robust),
                       std::make_unique<FedAvgClient>(sgdOptions(config.train), config.eval.batch_size,
                                                      config.algorithm_settings.get<FedProxSettings>().mu)};
    });

}  // namespace

}  // namespace pagefl
