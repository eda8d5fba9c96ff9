// The in-process simulation engine: N virtual clients over a pool of W workers, one model
// replica per worker, data loaded once and shared read-only. Every random draw comes from a
// stream keyed by (seed, purpose, round, client), so the metrics do not depend on W.
#pragma once

#include <vector>

#include "pagefl/core/config.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/fl/algorithm.h"
#include "pagefl/sim/round_record.h"

namespace pagefl {

// Whether `round` of `total` computes the evaluation streams: every `every` rounds and the last
// (every = 0: never, for benchmarks).
bool isEvaluationRound(std::int64_t round, std::int64_t total, std::int64_t every);

class Simulator {
 public:
  Simulator(const Config& config, const FederatedDataset& data);

  // Runs all rounds, reporting each to the observers. Returns the final global parameters.
  torch::Tensor run(const std::vector<RoundObserver*>& observers);

  // The clients taking part in a round: a seeded sample of round(participation x N), at least one.
  static std::vector<std::int64_t> sampleParticipants(const RngStreams& streams, std::int64_t round,
                                                      std::int64_t num_clients, double participation);

 private:
  const Config& config_;
  const FederatedDataset& data_;
};

}  // namespace pagefl
