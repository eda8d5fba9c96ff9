#include "pagefl/fl/algorithms/partly_local.h"

#include <torch/torch.h>

#include "pagefl/core/error.h"
#include "pagefl/fl/algorithms/client_round.h"
#include "pagefl/fl/algorithms/fedavg.h"
#include "pagefl/nn/param_mask.h"

namespace pagefl {

ClientUpdate PartlyLocalClient::run(const ServerMessage& message, ClientContext& context) const {
  ClientUpdate update = openUpdate(message, context);
  loadGlobalAndScore(update, message, context, eval_batch_size_);
  FlatModel& model = context.model;
  const ParamMask local_part =
      part_ == LocalPart::Head ? headMask(model.layout(), head_layers_) : normMask(model.layout());
  if (local_part.count() == 0)
    throw Error("FedBN keeps normalisation layers local, but the model has none: use model.name = \"cnn-gn\" or "
                "\"resnet18-gn\"");
  torch::Tensor& mine = context.state.tensor("local_part");
  if (mine.defined()) {
    torch::NoGradGuard no_grad;
    local_part.scatter(model.params(), mine);
  }

  auto rng = context.streams.engine(Purpose::Shuffle, message.round, context.client);
  TrainStats stats;
  if (schedule_ == LocalSchedule::HeadThenBody) {
    SgdOptions head = sgd_, body = sgd_;
    head.epochs = head_epochs_;
    head.trainable = local_part.ones;
    body.trainable = local_part.complement();
    trainSgd(model, context.train, head, rng);
    stats = trainSgd(model, context.train, body, rng);
  } else {
    stats = trainSgd(model, context.train, sgd_, rng);
  }
  mine = local_part.gather(model.params());
  recordTraining(update, stats, context);
  update.params = model.snapshot();
  scorePersonal(update, message, context, update.params, eval_batch_size_);
  return update;
}

namespace {

const SettingsRegistration<HeadSettings> kHeadSettings("head");
const SettingsRegistration<FedRepSettings> kFedRepSettings("fedrep");

AlgorithmFactory partlyLocal(LocalPart part, LocalSchedule schedule) {
  return [part, schedule](const Config& config) {
    return Algorithm{std::make_unique<FedAvgServer>(config.robust),
                     std::make_unique<PartlyLocalClient>(
                         part, schedule, sgdOptions(config.train), config.algorithm_settings.get<HeadSettings>().layers,
                         config.algorithm_settings.get<FedRepSettings>().head_epochs, config.eval.batch_size)};
  };
}

const AlgorithmRegistration kFedPer({"fedper", "FedPer (Arivazhagan et al., 2019): a shared body, a local head", {}},
                                    partlyLocal(LocalPart::Head, LocalSchedule::Joint));
const AlgorithmRegistration kFedRep(
    {"fedrep",
     "FedRep (Collins et al., ICML 2021): the local head trained first, then the shared body",
     {{"algorithm.fedrep_head_epochs", 1, 10, false, true}}},
    partlyLocal(LocalPart::Head, LocalSchedule::HeadThenBody));
const AlgorithmRegistration kFedBn({"fedbn", "FedBN (Li et al., ICLR 2021): normalisation layers kept local", {}},
                                   partlyLocal(LocalPart::Normalisation, LocalSchedule::Joint));

}  // namespace

}  // namespace pagefl
