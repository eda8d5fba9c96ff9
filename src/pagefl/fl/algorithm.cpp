#include "pagefl/fl/algorithm.h"

#include "pagefl/core/error.h"
#include "pagefl/fl/algorithms/fedavg.h"
#include "pagefl/fl/algorithms/fedavg_finetune.h"
#include "pagefl/fl/algorithms/local_only.h"
#include "pagefl/fl/algorithms/page.h"

namespace pagefl {

ServerMessage ServerAlgorithm::configureRound(std::int64_t round) {
  ServerMessage message;
  message.round = round;
  message.global = global_;
  return message;
}

SgdOptions sgdOptions(const TrainConfig& train) {
  return {train.lr, train.momentum, train.weight_decay, train.clip_norm, train.epochs, train.batch_size};
}

Algorithm makeAlgorithm(const Config& config) {
  const std::string& name = config.algorithm.name;
  const SgdOptions sgd = sgdOptions(config.train);
  const std::int64_t eval_batch = config.eval.batch_size;
  if (name == "fedavg") return {std::make_unique<FedAvgServer>(), std::make_unique<FedAvgClient>(sgd, eval_batch, 0.0)};
  if (name == "fedprox")
    return {std::make_unique<FedAvgServer>(),
            std::make_unique<FedAvgClient>(sgd, eval_batch, config.algorithm.fedprox_mu)};
  if (name == "local") return {std::make_unique<FedAvgServer>(), std::make_unique<LocalOnlyClient>(sgd, eval_batch)};
  if (name == "fedavg-ft") {
    SgdOptions finetune = sgd;
    finetune.epochs = config.algorithm.finetune_epochs;
    if (config.algorithm.finetune_lr > 0) finetune.lr = config.algorithm.finetune_lr;
    return {std::make_unique<FedAvgServer>(), std::make_unique<FedAvgFineTuneClient>(sgd, finetune, eval_batch)};
  }
  if (name == "page" || name == "dapfl") {
    const RngStreams streams(static_cast<std::uint64_t>(config.run.seed));
    auto design = name == "page" ? page::ClientDesign::Page : page::ClientDesign::DapFl;
    std::unique_ptr<ServerAlgorithm> server;
    if (design == page::ClientDesign::Page)
      server = std::make_unique<page::PageServer>(config.page, streams);
    else
      server = std::make_unique<page::UniformServer>();
    return {std::move(server), std::make_unique<page::AgentClient>(design, config.page, sgd, eval_batch)};
  }
  throw Error("unknown algorithm.name '{}'; choose fedavg, fedprox, local, fedavg-ft, page or dapfl", name);
}

}  // namespace pagefl
