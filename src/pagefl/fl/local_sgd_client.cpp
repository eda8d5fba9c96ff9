#include "pagefl/fl/local_sgd_client.h"

#include <torch/torch.h>

namespace pagefl {

GradientHook proximalHook(double mu, const torch::Tensor& centre) {
  if (mu <= 0) return {};
  return [&centre, mu](FlatModel& m) {
    m.grads().add_(m.params(), mu);  // in place: grads += mu * (w - w_global)
    m.grads().add_(centre, -mu);
  };
}

const torch::Tensor& trainingStart(const LocalSgdJob& job, const ServerMessage& message) {
  return job.start.defined() ? job.start : message.global;
}

ClientUpdate LocalSgdClient::run(const ServerMessage& message, ClientContext& context) const {
  LocalSgdJob job = prepare(message, context);
  if (job.side) {
    SideTraining& side = *job.side;
    context.model.load(side.start);
    trainSgd(context.model, context.train, job.sgd, side.shuffle, proximalHook(side.proximal_mu, message.global));
    side.trained = context.model.snapshot();
  }
  context.model.load(trainingStart(job, message));
  const TrainStats stats =
      trainSgd(context.model, context.train, job.sgd, job.shuffle, proximalHook(job.proximal_mu, message.global));
  return finish(message, context, job, stats);
}

}  // namespace pagefl
