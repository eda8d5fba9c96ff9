#include "pagefl/fl/algorithm.h"

#include <map>

#include "pagefl/core/error.h"
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

std::map<std::string, AlgorithmFactory>& factories() {
  static std::map<std::string, AlgorithmFactory> registered;
  return registered;
}

}  // namespace

AlgorithmRegistration::AlgorithmRegistration(AlgorithmEntry entry, AlgorithmFactory make) {
  factories()[entry.name] = std::move(make);
  registerAlgorithmEntry(std::move(entry));
}

Algorithm makeAlgorithm(const Config& config) {
  const AlgorithmEntry& entry = algorithmEntry(config.algorithm.name);  // throws for unknown names
  return factories().at(entry.name)(config);
}

void refuseRobustRules(const Config& config) {
  if (robustAtAggregation(config.robust))
    throw Error(
        "robust.rule and robust.norm_factor apply to the FedAvg family, PAGE and Dap-FL; {} updates its "
        "global model its own way: use robust.max_update_norm alone, or the default rule \"mean\"",
        config.algorithm.name);
}

}  // namespace pagefl
