#include "pagefl/fl/algorithms/fedavg_finetune.h"

#include "pagefl/fl/streams.h"

namespace pagefl {

ClientUpdate FedAvgFineTuneClient::run(const ServerMessage& message, ClientContext& context) const {
  ClientUpdate update = trainFromGlobal(message, context);
  if (message.evaluate) {
    context.model.load(message.global);
    auto rng = context.streams.engine(Purpose::FineTuneShuffle, message.round, context.client);
    trainSgd(context.model, context.train, finetune_, rng);
    streams::record(update.metrics, streams::kPersonalOnLocal, evaluate(context.model, context.test, evalBatchSize()));
  }
  return update;
}

}  // namespace pagefl
