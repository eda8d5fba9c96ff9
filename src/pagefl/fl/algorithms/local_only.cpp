#include "pagefl/fl/algorithms/local_only.h"

#include "pagefl/fl/metric_keys.h"
#include "pagefl/fl/streams.h"

namespace pagefl {

ClientUpdate LocalOnlyClient::run(const ServerMessage& message, ClientContext& context) const {
  ClientUpdate update;
  update.client = context.client;
  update.round = message.round;
  FlatModel& model = context.model;
  if (message.evaluate) {
    model.load(message.global);
    streams::record(update.metrics, streams::kGlobalOnLocal, evaluate(model, context.test, eval_batch_size_));
  }
  torch::Tensor& personal = context.state.tensor("personal_model");
  if (!personal.defined()) personal = message.global.clone();
  model.load(personal);
  auto rng = context.streams.engine(Purpose::Shuffle, message.round, context.client);
  TrainStats stats = trainSgd(model, context.train, sgd_, rng);
  personal.copy_(model.params());
  update.num_samples = context.train.size();
  update.metrics[metric::kTrainLoss] = stats.mean_loss;
  update.metrics[metric::kTrainSamples] = static_cast<double>(stats.samples);
  if (message.evaluate)
    streams::record(update.metrics, streams::kPersonalOnLocal, evaluate(model, context.test, eval_batch_size_));
  if (message.wants_personal || message.export_personal) update.personal = personal.clone();
  return update;
}

namespace {

const AlgorithmRegistration kLocalOnly(
    {"local", "Local-only training: each site trains its own model and shares nothing", {}}, [](const Config& config) {
      return Algorithm{std::make_unique<LocalOnlyServer>(),
                       std::make_unique<LocalOnlyClient>(sgdOptions(config.train), config.eval.batch_size)};
    });

}  // namespace

}  // namespace pagefl
