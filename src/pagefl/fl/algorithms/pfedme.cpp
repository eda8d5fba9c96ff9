#include "pagefl/fl/algorithms/pfedme.h"

#include <torch/torch.h>

#include "pagefl/fl/aggregation.h"
#include "pagefl/fl/algorithms/client_round.h"

namespace pagefl {

Metrics PFedMeServer::aggregate(std::int64_t, const std::vector<ClientUpdate>& updates, ServerEvaluator&) {
  if (auto average = sampleWeightedAverage(updates)) global_ = global_ * (1.0 - beta_) + *average * beta_;
  return {};
}

ClientUpdate PFedMeClient::run(const ServerMessage& message, ClientContext& context) const {
  ClientUpdate update = openUpdate(message, context);
  loadGlobalAndScore(update, message, context, eval_batch_size_);
  FlatModel& model = context.model;  // holds the personal theta
  torch::Tensor local = message.global.clone();  // the client's copy w of the global model
  auto rng = context.streams.engine(Purpose::Shuffle, message.round, context.client);
  const TrainStats stats = forEachMinibatch(context.train, sgd_.epochs, sgd_.batch_size, rng, [&](const Dataset& batch) {
    double first_loss = 0.0;
    for (std::int64_t k = 0; k < options_.steps; ++k) {
      const double loss = lossAndGradient(model, batch);
      if (k == 0) first_loss = loss;
      model.grads().add_(model.params(), options_.lambda).add_(local, -options_.lambda);
      sgdStep(model, options_.personal_lr, sgd_);
    }
    local.add_(local - model.params(), -sgd_.lr * options_.lambda);
    return first_loss;
  });
  recordTraining(update, stats, context);
  update.params = local;
  scorePersonal(update, message, context, model.snapshot(), eval_batch_size_);
  return update;
}

namespace {

const SettingsRegistration<PFedMeOptions> kPFedMeSettings("pfedme");

const AlgorithmRegistration kPFedMe({"pfedme",
                                     "pFedMe (T. Dinh et al., NeurIPS 2020): personal models through Moreau envelopes",
                                     {{"algorithm.pfedme_lambda", 1, 100, true, false}}},
                                    [](const Config& config) {
                                      refuseRobustRules(config);
                                      const PFedMeOptions& options = config.algorithm_settings.get<PFedMeOptions>();
                                      return Algorithm{std::make_unique<PFedMeServer>(options.beta),
                                                       std::make_unique<PFedMeClient>(sgdOptions(config.train), options,
                                                                                      config.eval.batch_size)};
                                    });

}  // namespace

}  // namespace pagefl
