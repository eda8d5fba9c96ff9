// A simulation sharded over the ranks of an MPI job (sim/sharding.h says who does what). Every
// rank but the server rank follows runs: it waits for the server rank's commands, builds each run
// from the config it is sent, trains the participants it owns and sends back what the
// aggregation needs of them.
#pragma once

#include "pagefl/mpi/mpi_world.h"
#include "pagefl/sim/sharding.h"

namespace pagefl::mpi {

class MpiShards final : public SimulationShards {
 public:
  explicit MpiShards(const MpiWorld& world) : world_(world) {}
  int rank() const override { return world_.rank(); }
  int size() const override { return world_.size(); }
  std::unique_ptr<ClientReach> startRun(const Config& config, bool validation_view, InProcessClients& local,
                                        ServerAlgorithm& server, ServerEvaluator& evaluator) override;
  void endRun() override;
  // Server rank: the command is over; the other ranks return from followRuns().
  void shutdown();
  // Whether a run has started and not ended: the other ranks may be waiting in it.
  bool inRun() const { return in_run_; }

  // Every rank but the server rank: follows runs until shutdown().
  void followRuns();

  // What a round moved, counted by the server rank for the log line at each run's end.
  void countRound(std::int64_t broadcast_bytes, std::int64_t gathered_bytes);

 private:
  const MpiWorld& world_;
  bool in_run_ = false;
  std::int64_t rounds_ = 0, broadcast_bytes_ = 0, gathered_bytes_ = 0;
};

}  // namespace pagefl::mpi
