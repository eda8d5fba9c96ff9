#include "pagefl/fl/algorithms/fedavg_finetune.h"

#include "pagefl/fl/algorithms/client_round.h"

namespace pagefl {

ClientUpdate FedAvgFineTuneClient::finish(const ServerMessage& message, ClientContext& context, LocalSgdJob& job,
                                          const TrainStats& stats) const {
  ClientUpdate update = packUpload(context, job, stats);
  if (message.evaluate) {
    context.model.load(message.global);
    auto rng = context.streams.engine(Purpose::FineTuneShuffle, message.round, context.client);
    trainSgd(context.model, context.train, finetune_, rng);
    scorePersonal(update, message, context, context.model.snapshot(), evalBatchSize());
  }
  return update;
}

SgdOptions fineTuneOptions(const Config& config) {
  const FineTuneSettings& settings = config.algorithm_settings.get<FineTuneSettings>();
  SgdOptions finetune = sgdOptions(config.train);
  finetune.epochs = settings.epochs;
  if (settings.lr > 0) finetune.lr = settings.lr;
  return finetune;
}

namespace {

const SettingsRegistration<FineTuneSettings> kFineTuneSettings("finetune");

const AlgorithmRegistration kFedAvgFineTune(
    {"fedavg-ft",
     "FedAvg + fine-tuning: FedAvg's global model fine-tuned on each site's data",
     {{"algorithm.finetune_epochs", 1, 5, false, true}}},
    [](const Config& config) {
      return Algorithm{std::make_unique<FedAvgServer>(config.robust),
                       std::make_unique<FedAvgFineTuneClient>(sgdOptions(config.train), fineTuneOptions(config),
                                                              config.eval.batch_size)};
    });

}  // namespace

}  // namespace pagefl
