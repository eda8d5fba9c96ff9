#include "pagefl/sim/simulator.h"

#include <torch/torch.h>

#include "pagefl/engine/round_engine.h"
#include "pagefl/sim/local_simulation.h"
#include "pagefl/sim/sharding.h"

namespace pagefl {

Simulator::Simulator(const Config& config, const FederatedDataset& data) : config_(config), data_(data) {}

torch::Tensor Simulator::run(const std::vector<RunObserver*>& observers, RunControls* controls) {
  LocalSimulation local(config_, data_);
  ServerAlgorithm& server = *local.algorithm.server;
  SimulationShards* shards = simulationShards();
  std::unique_ptr<ClientReach> sharded;
  if (shards && shards->size() > 1)
    sharded = shards->startRun(config_, data_.is_validation_view, local.clients, server, local.evaluator);
  ClientReach& reach = sharded ? *sharded : static_cast<ClientReach&>(local.clients);
  RoundEngine engine(config_, {data_.numClients(), 1, local.spec, config_.run.export_personal}, server, local.evaluator,
                     reach, observers, controls);
  // On an error the other ranks may be waiting anywhere in the round: the command then ends the
  // whole job (apps/pagefl), so only a run that returns tells them it is over.
  engine.run();
  if (sharded) shards->endRun();
  return server.global();
}

}  // namespace pagefl
