#include "pagefl/fl/algorithms/fedrecon.h"

#include <torch/torch.h>

#include <cmath>

#include "pagefl/fl/algorithms/client_round.h"
#include "pagefl/fl/algorithms/fedavg.h"
#include "pagefl/fl/algorithms/partly_local.h"
#include "pagefl/nn/param_mask.h"

namespace pagefl {

bool isFedReconEvaluationClient(std::int64_t client, double eval_fraction) {
  return inEvenShare(client, eval_fraction);
}

ClientUpdate FedReconClient::run(const ServerMessage& message, ClientContext& context) const {
  ClientUpdate update = openUpdate(message, context);
  loadGlobalAndScore(update, message, context, eval_batch_size_);
  FlatModel& model = context.model;
  const ParamMask head = headMask(model.layout(), head_layers_);
  const bool held_out = isFedReconEvaluationClient(context.client, eval_fraction_);
  const std::int64_t n = context.train.size();
  const std::int64_t half = held_out || n < 2 ? n : n / 2;
  const Dataset support = context.train.slice(0, half);
  const Dataset query = n < 2 || held_out ? context.train : context.train.slice(half, n);

  SgdOptions reconstruct = sgd_;
  reconstruct.epochs = recon_epochs_;
  reconstruct.trainable = head.ones;
  auto recon_rng = context.streams.engine(Purpose::FineTuneShuffle, message.round, context.client);
  TrainStats recon_stats = trainSgd(model, support, reconstruct, recon_rng);
  if (held_out) {
    recordTraining(update, recon_stats, context);
    update.num_samples = 0;
    scorePersonal(update, message, context, model.snapshot(), eval_batch_size_);
    return update;  // no parameters: nothing to aggregate
  }

  SgdOptions body = sgd_;
  body.trainable = head.complement();
  auto rng = context.streams.engine(Purpose::Shuffle, message.round, context.client);
  recordTraining(update, trainSgd(model, query, body, rng), context);
  const torch::Tensor personal = model.snapshot();
  update.params = personal.clone();
  head.scatter(update.params, head.gather(message.global));
  scorePersonal(update, message, context, personal, eval_batch_size_);
  return update;
}

namespace {

const SettingsRegistration<FedReconSettings> kFedReconSettings("fedrecon");

const AlgorithmRegistration kFedRecon(
    {"fedrecon", "FedRecon (Singhal et al., NeurIPS 2021): a local head rebuilt each round, never stored", {}},
    [](const Config& config) {
      const FedReconSettings& settings = config.algorithm_settings.get<FedReconSettings>();
      return Algorithm{std::make_unique<FedAvgServer>(config.robust),
                       std::make_unique<FedReconClient>(
                           sgdOptions(config.train), config.algorithm_settings.get<HeadSettings>().layers,
                           settings.epochs, settings.eval_fraction, config.eval.batch_size)};
    });

}  // namespace

}  // namespace pagefl
