// One simulation spread over processes (mpi/, when pagefl runs under mpirun). Rank 0, the server
// rank, runs the commands, the round engine and every observer, and alone writes the run
// directory; each rank trains the clients it owns: whole aggregation blocks (fl/aggregation.h),
// block b on rank b mod K. Their uploads never leave them: the server rank gathers what the
// aggregation needs of each (UploadFacts), broadcasts the weights and adds the ranks' block sums in
// block order, so that every metric equals the single process's to the last bit.
#pragma once

#include <cstdint>
#include <memory>

#include "pagefl/core/config.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/engine/round_engine.h"
#include "pagefl/fl/aggregation.h"
#include "pagefl/sim/in_process_clients.h"

namespace pagefl {

class SimulationShards {
 public:
  virtual ~SimulationShards() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  int ownerOfBlock(std::int64_t block) const { return static_cast<int>(block % size()); }
  int ownerOf(std::int64_t client) const { return ownerOfBlock(aggregationBlockOf(client)); }
  bool owns(std::int64_t client) const { return ownerOf(client) == rank(); }

  // Server rank: starts the run of `config` on every other rank (each reads its clients' data from
  // the config itself: the validation view when tuning) and returns the reach that trains the
  // participants where they are owned, `local` training the server rank's own. Throws
  // pagefl::Error when the algorithm's aggregation needs the uploads themselves.
  virtual std::unique_ptr<ClientReach> startRun(const Config& config, bool validation_view, InProcessClients& local,
                                                ServerAlgorithm& server, ServerEvaluator& evaluator) = 0;
  // Server rank: the run is over (finished or not); the other ranks drop it.
  virtual void endRun() = 0;
};

// The shards this process belongs to, or null when it runs alone.
SimulationShards* simulationShards();
void setSimulationShards(SimulationShards* shards);

// The clients whose samples this process reads for a run of `config`: every client alone; under
// mpirun a rank's own, and on the server rank also those held out as new sites, which it scores.
ClientSelection dataSelection(const Config& config);

}  // namespace pagefl
