#include "pagefl/fl/algorithm.h"

#include <set>

#include "pagefl/core/error.h"
#include "pagefl/fl/algorithms/fedavg.h"
#include "pagefl/fl/algorithms/fedavg_finetune.h"
#include "pagefl/fl/algorithms/local_only.h"
#include "pagefl/fl/algorithms/apfl.h"
#include "pagefl/fl/algorithms/ditto.h"
#include "pagefl/fl/algorithms/fedala.h"
#include "pagefl/fl/algorithms/fedavgm.h"
#include "pagefl/fl/algorithms/feddyn.h"
#include "pagefl/fl/algorithms/fedrecon.h"
#include "pagefl/fl/algorithms/fedrod.h"
#include "pagefl/fl/algorithms/page.h"
#include "pagefl/fl/algorithms/partly_local.h"
#include "pagefl/fl/algorithms/per_fedavg.h"
#include "pagefl/fl/algorithms/pfedme.h"
#include "pagefl/fl/algorithms/scaffold.h"
#include "pagefl/fl/robust_aggregation.h"
#include "pagefl/fl/state_archive.h"

namespace pagefl {

ServerMessage ServerAlgorithm::configureRound(std::int64_t round) {
  ServerMessage message;
  message.round = round;
  message.global = global_;
  return message;
}

NamedTensors ServerAlgorithm::saveState() const {
  NamedTensors state{{"global", global_}};
  for (const auto& [name, member] : persistent_) state[name] = *member;
  return state;
}

void ServerAlgorithm::loadState(const NamedTensors& state) {
  global_ = requireTensor(state, "global", "the server checkpoint").clone();
  for (const auto& [name, member] : persistent_) *member = requireTensor(state, name, "the server checkpoint").clone();
}

SgdOptions sgdOptions(const TrainConfig& train) {
  return {train.lr, train.momentum, train.weight_decay, train.clip_norm, train.epochs, train.batch_size};
}

namespace {

// FedAvg+FT's and FedBABU's fine-tuning: [train]'s options with the fine-tuning epochs and lr.
SgdOptions fineTuneOptions(const Config& config) {
  SgdOptions finetune = sgdOptions(config.train);
  finetune.epochs = config.algorithm.finetune_epochs;
  if (config.algorithm.finetune_lr > 0) finetune.lr = config.algorithm.finetune_lr;
  return finetune;
}

}  // namespace

namespace {

// The baselines, each a server half and a client half.
std::optional<Algorithm> makeBaseline(const Config& config) {
  const AlgorithmConfig& a = config.algorithm;
  const std::string& name = a.name;
  const SgdOptions sgd = sgdOptions(config.train);
  const std::int64_t eval_batch = config.eval.batch_size;
  auto fedavgServer = [&] { return std::make_unique<FedAvgServer>(config.robust); };
  auto partlyLocal = [&](LocalPart part, LocalSchedule schedule) -> Algorithm {
    return {fedavgServer(), std::make_unique<PartlyLocalClient>(part, schedule, sgd, a.head_layers,
                                                                a.fedrep_head_epochs, eval_batch)};
  };
  if (name == "scaffold")
    return Algorithm{std::make_unique<ScaffoldServer>(a.server_lr), std::make_unique<ScaffoldClient>(sgd, eval_batch)};
  if (name == "feddyn")
    return Algorithm{std::make_unique<FedDynServer>(a.feddyn_alpha),
                     std::make_unique<FedDynClient>(sgd, a.feddyn_alpha, eval_batch)};
  if (name == "fedavgm")
    return Algorithm{std::make_unique<FedAvgMServer>(a.server_lr, a.server_momentum),
                     std::make_unique<FedAvgClient>(sgd, eval_batch, 0.0)};
  if (name == "pfedme")
    return Algorithm{std::make_unique<PFedMeServer>(a.pfedme_beta),
                     std::make_unique<PFedMeClient>(
                         sgd, PFedMeOptions{a.pfedme_lambda, a.pfedme_steps, a.pfedme_personal_lr, a.pfedme_beta},
                         eval_batch)};
  if (name == "ditto") return Algorithm{fedavgServer(), std::make_unique<DittoClient>(sgd, a.ditto_lambda, eval_batch)};
  if (name == "fedala")
    return Algorithm{fedavgServer(), std::make_unique<FedAlaClient>(
                                         sgd,
                                         FedAlaOptions{a.fedala_eta, a.fedala_data_fraction, a.fedala_layers,
                                                       a.fedala_threshold, a.fedala_history},
                                         eval_batch)};
  if (name == "fedrod") return Algorithm{fedavgServer(), std::make_unique<FedRodClient>(sgd, eval_batch)};
  if (name == "fedrecon")
    return Algorithm{fedavgServer(), std::make_unique<FedReconClient>(sgd, a.head_layers, a.fedrecon_epochs,
                                                                      a.fedrecon_eval_fraction, eval_batch)};
  if (name == "fedper") return partlyLocal(LocalPart::Head, LocalSchedule::Joint);
  if (name == "fedrep") return partlyLocal(LocalPart::Head, LocalSchedule::HeadThenBody);
  if (name == "fedbn") return partlyLocal(LocalPart::Normalisation, LocalSchedule::Joint);
  if (name == "fedbabu")
    return Algorithm{fedavgServer(),
                     std::make_unique<FedBabuClient>(sgd, fineTuneOptions(config), a.head_layers, eval_batch)};
  if (name == "apfl")
    return Algorithm{fedavgServer(), std::make_unique<ApflClient>(sgd, a.apfl_alpha, a.apfl_adaptive, eval_batch)};
  if (name == "perfedavg")
    return Algorithm{fedavgServer(), std::make_unique<PerFedAvgClient>(sgd, a.perfedavg_beta, eval_batch)};
  return std::nullopt;
}

}  // namespace

Algorithm makeAlgorithm(const Config& config) {
  const std::string& name = config.algorithm.name;
  const SgdOptions sgd = sgdOptions(config.train);
  const std::int64_t eval_batch = config.eval.batch_size;
  if (name == "fedavg")
    return {std::make_unique<FedAvgServer>(config.robust), std::make_unique<FedAvgClient>(sgd, eval_batch, 0.0)};
  if (name == "fedprox")
    return {std::make_unique<FedAvgServer>(config.robust),
            std::make_unique<FedAvgClient>(sgd, eval_batch, config.algorithm.fedprox_mu)};
  if (name == "local") return {std::make_unique<LocalOnlyServer>(), std::make_unique<LocalOnlyClient>(sgd, eval_batch)};
  if (name == "fedavg-ft")
    return {std::make_unique<FedAvgServer>(config.robust),
            std::make_unique<FedAvgFineTuneClient>(sgd, fineTuneOptions(config), eval_batch)};
  if (name == "page" || name == "dapfl") {
    const RngStreams streams(static_cast<std::uint64_t>(config.run.seed));
    auto design = name == "page" ? page::ClientDesign::Page : page::ClientDesign::DapFl;
    std::unique_ptr<ServerAlgorithm> server;
    if (design == page::ClientDesign::Page)
      server = std::make_unique<page::PageServer>(config.page, streams, config.robust);
    else
      server = std::make_unique<page::UniformServer>(config.robust);
    return {std::move(server), std::make_unique<page::AgentClient>(design, config.page, sgd, eval_batch)};
  }
  if (auto baseline = makeBaseline(config)) {
    static const std::set<std::string> kOwnServerUpdate = {"scaffold", "feddyn", "fedavgm", "pfedme"};
    if (robustAtAggregation(config.robust) && kOwnServerUpdate.count(name))
      throw Error("robust.rule and robust.norm_factor apply to the FedAvg family, PAGE and Dap-FL; {} updates its "
                  "global model its own way: use robust.max_update_norm alone, or the default rule \"mean\"",
                  name);
    return std::move(*baseline);
  }
  throw Error("unknown algorithm.name '{}'; choose one of {}", name, fmt::join(algorithmNames(), ", "));
}

}  // namespace pagefl
