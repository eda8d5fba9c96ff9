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

ClientUpdate LocalSgdClient::run(const ServerMessage& message, ClientContext& context) const {
  LocalSgdJob job = prepare(message, context);
  context.model.load(message.global);
  const TrainStats stats =
      trainSgd(context.model, context.train, job.sgd, job.shuffle, proximalHook(job.proximal_mu, message.global));
  return finish(message, context, job, stats);
}

}  // namespace pagefl
