#include "pagefl/sim/sharding.h"

namespace pagefl {
namespace {
SimulationShards* current_shards = nullptr;
}  // namespace

SimulationShards* simulationShards() { return current_shards; }
void setSimulationShards(SimulationShards* shards) { current_shards = shards; }

ClientSelection dataSelection(const Config& config) {
  const SimulationShards* shards = current_shards;
  if (!shards || shards->size() <= 1) return {};
  const double held_out = shards->rank() == 0 ? config.eval.new_clients : 0.0;
  return {[shards, held_out](std::int64_t client) {
    return shards->owns(client) || (held_out > 0 && inEvenShare(client, held_out));
  }};
}

}  // namespace pagefl
