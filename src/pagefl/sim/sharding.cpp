#include "pagefl/sim/sharding.h"

namespace pagefl {
namespace {
SimulationShards* current_shards = nullptr;
}  // namespace

SimulationShards* simulationShards() { return current_shards; }
void setSimulationShards(SimulationShards* shards) { current_shards = shards; }

}  // namespace pagefl
