#include "pagefl/fl/algorithms/per_fedavg.h"

#include <torch/torch.h>

#include "pagefl/fl/algorithms/client_round.h"
#include "pagefl/fl/algorithms/fedavg.h"

namespace pagefl {

ClientUpdate PerFedAvgClient::run(const ServerMessage& message, ClientContext& context) const {
  ClientUpdate update = openUpdate(message, context);
  loadGlobalAndScore(update, message, context, eval_batch_size_);
  FlatModel& model = context.model;
  TrainStats stats;
  double loss_sum = 0.0;
  auto rng = context.streams.engine(Purpose::Shuffle, message.round, context.client);
  for (std::int64_t epoch = 0; epoch < sgd_.epochs; ++epoch) {
    EpochBatches batches(context.train, sgd_.batch_size, rng);
    for (std::int64_t b = 0; b + 1 < batches.count(); b += 2) {
      const torch::Tensor start = model.snapshot();
      const Dataset inner = batches.batch(b);
      loss_sum += lossAndGradient(model, inner) * static_cast<double>(inner.size());
      sgdStep(model, sgd_.lr, sgd_);
      lossAndGradient(model, batches.batch(b + 1));
      model.load(start);
      sgdStep(model, beta_, sgd_);
      stats.samples += inner.size();
      ++stats.steps;
    }
  }
  stats.mean_loss = stats.samples ? loss_sum / static_cast<double>(stats.samples) : 0.0;
  recordTraining(update, stats, context);
  update.params = model.snapshot();
  if (message.evaluate) {
    model.load(message.global);
    auto adapt_rng = context.streams.engine(Purpose::FineTuneShuffle, message.round, context.client);
    EpochBatches batches(context.train, sgd_.batch_size, adapt_rng);
    if (batches.count() > 0) {
      lossAndGradient(model, batches.batch(0));
      sgdStep(model, sgd_.lr, sgd_);
    }
    scorePersonal(update, message, context, model.snapshot(), eval_batch_size_);
  }
  return update;
}

namespace {

const SettingsRegistration<PerFedAvgSettings> kPerFedAvgSettings("perfedavg");

const AlgorithmRegistration kPerFedAvg(
    {"perfedavg", "Per-FedAvg (Fallah et al., NeurIPS 2020): a meta-learnt start each site adapts in a step", {}},
    [](const Config& config) {
      return Algorithm{std::make_unique<FedAvgServer>(config.robust),
                       std::make_unique<PerFedAvgClient>(sgdOptions(config.train),
                                                         config.algorithm_settings.get<PerFedAvgSettings>().beta,
                                                         config.eval.batch_size)};
    });

}  // namespace

}  // namespace pagefl
