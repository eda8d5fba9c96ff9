#include "pagefl/fl/algorithms/fedavg_finetune.h"

#include "pagefl/fl/algorithms/client_round.h"
#include "pagefl/nn/param_mask.h"

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

SgdOptions FedBabuClient::localOptions(const ClientContext& context) const {
  SgdOptions options = FedAvgClient::localOptions(context);
  options.trainable = headMask(context.model.layout(), head_layers_).complement();
  return options;
}

}  // namespace pagefl
