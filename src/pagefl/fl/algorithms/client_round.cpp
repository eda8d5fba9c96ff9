#include "pagefl/fl/algorithms/client_round.h"

#include <torch/torch.h>

#include "pagefl/fl/metric_keys.h"
#include "pagefl/fl/streams.h"

namespace pagefl {

ClientUpdate openUpdate(const ServerMessage& message, const ClientContext& context) {
  ClientUpdate update;
  update.client = context.client;
  update.round = message.round;
  return update;
}

void loadGlobalAndScore(ClientUpdate& update, const ServerMessage& message, ClientContext& context,
                        std::int64_t eval_batch_size) {
  context.model.load(message.global);
  if (message.evaluate)
    streams::record(update.metrics, streams::kGlobalOnLocal, evaluate(context.model, context.test, eval_batch_size));
}

void recordTraining(ClientUpdate& update, const TrainStats& stats, const ClientContext& context) {
  update.num_samples = context.train.size();
  update.metrics[metric::kTrainLoss] = stats.mean_loss;
  update.metrics[metric::kTrainSamples] = static_cast<double>(stats.samples);
}

void scorePersonal(ClientUpdate& update, const ServerMessage& message, ClientContext& context,
                   const torch::Tensor& personal, std::int64_t eval_batch_size) {
  if (!message.evaluate) return;
  context.model.load(personal);
  streams::record(update.metrics, streams::kPersonalOnLocal, evaluate(context.model, context.test, eval_batch_size));
  if (message.wants_personal || message.export_personal) update.personal = personal.clone();
}

torch::Tensor& persistentCopy(ClientState& state, const std::string& key, const torch::Tensor& initial) {
  torch::Tensor& tensor = state.tensor(key);
  if (!tensor.defined()) tensor = initial.clone();
  return tensor;
}

}  // namespace pagefl
