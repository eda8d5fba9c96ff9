#include "pagefl/fl/algorithms/fedala.h"

#include <torch/torch.h>

#include <cmath>
#include <deque>

#include "pagefl/fl/algorithms/client_round.h"
#include "pagefl/fl/algorithms/fedavg.h"
#include "pagefl/nn/param_mask.h"

namespace pagefl {
namespace {

constexpr int kMaxFirstPasses = 50;

double standardDeviation(const std::deque<double>& values) {
  double mean = 0.0, squares = 0.0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  for (double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / static_cast<double>(values.size()));
}

}  // namespace

torch::Tensor fedAlaBlend(const torch::Tensor& local, const torch::Tensor& global, const torch::Tensor& weights) {
  return local + (global - local) * weights;
}

void fedAlaWeightStep(torch::Tensor& weights, const torch::Tensor& grad_at_blend, const torch::Tensor& local,
                      const torch::Tensor& global, double eta) {
  weights.sub_(grad_at_blend * (global - local), eta).clamp_(0.0, 1.0);
}

torch::Tensor FedAlaClient::blend(const ServerMessage& message, ClientContext& context, const ParamMask& adapted,
                                  const torch::Tensor& local) const {
  FlatModel& model = context.model;
  const torch::Tensor local_part = adapted.gather(local), global_part = adapted.gather(message.global);
  const bool first = !context.state.has("ala_weights");
  torch::Tensor& weights = context.state.tensor("ala_weights");
  if (first) weights = torch::ones({adapted.count()});

  auto rng = context.streams.engine(Purpose::AdaptiveAggregationSample, message.round, context.client);
  const auto share = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(options_.data_fraction * static_cast<double>(context.train.size())));
  EpochBatches sampler(context.train, share, rng);
  const Dataset sample = sampler.batch(0);
  torch::Tensor start = message.global.clone();  // lower layers take the global model
  std::deque<double> recent;
  for (int pass = 0; pass < (first ? kMaxFirstPasses : 1); ++pass) {
    EpochBatches batches(sample, sgd_.batch_size, rng);
    for (std::int64_t b = 0; b < batches.count(); ++b) {
      adapted.scatter(start, fedAlaBlend(local_part, global_part, weights));
      model.load(start);
      recent.push_back(lossAndGradient(model, batches.batch(b)));
      if (static_cast<std::int64_t>(recent.size()) > options_.history) recent.pop_front();
      fedAlaWeightStep(weights, adapted.gather(model.grads()), local_part, global_part, options_.eta);
    }
    if (static_cast<std::int64_t>(recent.size()) >= options_.history && standardDeviation(recent) < options_.threshold)
      break;
  }
  adapted.scatter(start, fedAlaBlend(local_part, global_part, weights));
  return start;
}

LocalSgdJob FedAlaClient::prepare(const ServerMessage& message, ClientContext& context) const {
  LocalSgdJob job{.update = openUpdate(message, context),
                  .sgd = sgd_,
                  .shuffle = context.streams.engine(Purpose::Shuffle, message.round, context.client)};
  loadGlobalAndScore(job.update, message, context, eval_batch_size_);
  // Checked every round, so that a bad fedala_layers is named in round 1, before any blend.
  const ParamMask adapted = lastModulesMask(context.model.layout(), options_.layers, "algorithm.fedala_layers");
  const torch::Tensor& local = context.state.tensor("local_model");
  if (local.defined() && context.train.size() > 0) job.start = blend(message, context, adapted, local);
  return job;
}

ClientUpdate FedAlaClient::finish(const ServerMessage& message, ClientContext& context, LocalSgdJob& job,
                                  const TrainStats& stats) const {
  ClientUpdate update = std::move(job.update);
  recordTraining(update, stats, context);
  update.params = context.model.snapshot();
  context.state.tensor("local_model") = update.params.clone();
  scorePersonal(update, message, context, update.params, eval_batch_size_);
  return update;
}

namespace {

const SettingsRegistration<FedAlaOptions> kFedAlaSettings("fedala");

const AlgorithmRegistration kFedAla(
    {"fedala",
     "FedALA (Zhang et al., AAAI 2023): each site blends the global model into its own, element-wise",
     {{"algorithm.fedala_eta", 0.1, 10, true, false}}},
    [](const Config& config) {
      return Algorithm{
          std::make_unique<FedAvgServer>(config.robust),
          std::make_unique<FedAlaClient>(sgdOptions(config.train), config.algorithm_settings.get<FedAlaOptions>(),
                                         config.eval.batch_size)};
    });

}  // namespace

}  // namespace pagefl
