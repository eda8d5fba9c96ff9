#include "pagefl/fl/algorithms/ditto.h"

#include <torch/torch.h>

#include "pagefl/fl/algorithms/client_round.h"
#include "pagefl/fl/algorithms/fedavg.h"

namespace pagefl {

LocalSgdJob DittoClient::prepare(const ServerMessage& message, ClientContext& context) const {
  LocalSgdJob job{.update = openUpdate(message, context),
                  .sgd = sgd_,
                  .shuffle = context.streams.engine(Purpose::Shuffle, message.round, context.client)};
  job.side = SideTraining{.start = persistentCopy(context.state, "personal_model", message.global),
                          .shuffle = context.streams.engine(Purpose::FineTuneShuffle, message.round, context.client),
                          .proximal_mu = lambda_};
  loadGlobalAndScore(job.update, message, context, eval_batch_size_);
  return job;
}

ClientUpdate DittoClient::finish(const ServerMessage& message, ClientContext& context, LocalSgdJob& job,
                                 const TrainStats& stats) const {
  ClientUpdate update = std::move(job.update);
  recordTraining(update, stats, context);
  update.params = context.model.snapshot();
  torch::Tensor& personal = context.state.tensor("personal_model");
  personal.copy_(job.side->trained);
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
