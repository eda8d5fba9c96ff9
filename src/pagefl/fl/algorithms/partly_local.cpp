#include "pagefl/fl/algorithms/partly_local.h"

#include <torch/torch.h>

#include "pagefl/core/error.h"
#include "pagefl/fl/algorithms/client_round.h"
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

}  // namespace pagefl
