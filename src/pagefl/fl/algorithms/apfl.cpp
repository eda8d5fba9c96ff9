#include "pagefl/fl/algorithms/apfl.h"

#include <torch/torch.h>

#include <algorithm>

#include "pagefl/fl/algorithms/client_round.h"
#include "pagefl/fl/algorithms/fedavg.h"

namespace pagefl {

torch::Tensor apflMixture(const torch::Tensor& local, const torch::Tensor& global, double alpha) {
  return local * alpha + global * (1.0 - alpha);
}

ClientUpdate ApflClient::run(const ServerMessage& message, ClientContext& context) const {
  ClientUpdate update = openUpdate(message, context);
  loadGlobalAndScore(update, message, context, eval_batch_size_);
  FlatModel& model = context.model;
  torch::Tensor& local = persistentCopy(context.state, "local_model", message.global);
  torch::Tensor& alpha_state = context.state.tensor("alpha");
  if (!alpha_state.defined()) alpha_state = torch::tensor({initial_alpha_}, torch::kFloat64);
  double alpha = alpha_state.item<double>();

  torch::Tensor global = message.global.clone();
  auto rng = context.streams.engine(Purpose::Shuffle, message.round, context.client);
  const TrainStats stats = forEachMinibatch(context.train, sgd_.epochs, sgd_.batch_size, rng, [&](const Dataset& batch) {
    // Gradient of the mixture, at the old v and w.
    model.load(apflMixture(local, global, alpha));
    lossAndGradient(model, batch);
    sgdStep(model, 0.0, sgd_);  // weight decay and clipping only
    const torch::Tensor mixture_grad = model.grads().clone();
    const double alpha_grad = (local - global).dot(mixture_grad).item<double>();
    // The global copy's own step.
    model.load(global);
    const double loss = lossAndGradient(model, batch);
    sgdStep(model, sgd_.lr, sgd_);
    global.copy_(model.params());
    local.add_(mixture_grad, -sgd_.lr * alpha);
    if (adaptive_) alpha = std::clamp(alpha - sgd_.lr * alpha_grad, 0.0, 1.0);
    return loss;
  });
  alpha_state.fill_(alpha);
  recordTraining(update, stats, context);
  update.metrics["apfl_alpha"] = alpha;
  update.params = global;
  scorePersonal(update, message, context, apflMixture(local, global, alpha), eval_batch_size_);
  return update;
}

namespace {

const SettingsRegistration<ApflSettings> kApflSettings("apfl");

const AlgorithmRegistration kApfl({"apfl",
                                   "APFL (Deng et al., 2020): each site mixes a local model with the global one",
                                   {{"algorithm.apfl_alpha", 0, 1, false, false}}},
                                  [](const Config& config) {
                                    const ApflSettings& settings = config.algorithm_settings.get<ApflSettings>();
                                    return Algorithm{
                                        std::make_unique<FedAvgServer>(config.robust),
                                        std::make_unique<ApflClient>(sgdOptions(config.train), settings.alpha,
                                                                     settings.adaptive, config.eval.batch_size)};
                                  });

}  // namespace

}  // namespace pagefl
