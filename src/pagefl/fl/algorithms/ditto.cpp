#include "pagefl/fl/algorithms/ditto.h"

#include <torch/torch.h>

#include "pagefl/fl/algorithms/client_round.h"
#include "pagefl/fl/algorithms/fedavg.h"

namespace pagefl {

ClientUpdate DittoClient::run(const ServerMessage& message, ClientContext& context) const {
  ClientUpdate update = openUpdate(message, context);
  torch::Tensor& personal = persistentCopy(context.state, "personal_model", message.global);
  const torch::Tensor& global = message.global;
  const double lambda = lambda_;
  context.model.load(personal);
  auto personal_rng = context.streams.engine(Purpose::FineTuneShuffle, message.round, context.client);
  trainSgd(context.model, context.train, sgd_, personal_rng,
           [&](FlatModel& m) { m.grads().add_(m.params(), lambda).add_(global, -lambda); });
  personal.copy_(context.model.params());

  loadGlobalAndScore(update, message, context, eval_batch_size_);
  auto rng = context.streams.engine(Purpose::Shuffle, message.round, context.client);
  recordTraining(update, trainSgd(context.model, context.train, sgd_, rng), context);
  update.params = context.model.snapshot();
  scorePersonal(update, message, context, personal, eval_batch_size_);
  return update;
}

namespace {

const SettingsRegistration<DittoSettings> kDittoSettings("ditto");

const AlgorithmRegistration kDitto({"ditto",
                                    "Ditto (Li et al., ICML 2021): a personal model pulled towards the global one",
                                    {{"algorithm.ditto_lambda", 1e-2, 10, true, false}}},
                                   [](const Config& config) {
                                     return Algorithm{std::make_unique<FedAvgServer>(config.robust),
                                                      std::make_unique<DittoClient>(
                                                          sgdOptions(config.train),
                                                          config.algorithm_settings.get<DittoSettings>().lambda,
                                                          config.eval.batch_size)};
                                   });

}  // namespace

}  // namespace pagefl
