// The in-process simulation: N virtual clients over a pool of W workers, one model replica per
// worker, data loaded once and shared read-only, run by the round engine. Every random draw comes
// from a stream keyed by (seed, purpose, round, client), so the metrics do not depend on W.
#pragma once

#include <vector>

#include "pagefl/core/config.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/engine/run_controls.h"
#include "pagefl/engine/run_observer.h"

namespace pagefl {

class Simulator {
 public:
  Simulator(const Config& config, const FederatedDataset& data);

  // Runs all rounds (or until `controls` stop the run), reporting to the observers. Returns the
  // final global parameters.
  torch::Tensor run(const std::vector<RunObserver*>& observers, RunControls* controls = nullptr);

 private:
  const Config& config_;
  const FederatedDataset& data_;
};

}  // namespace pagefl
