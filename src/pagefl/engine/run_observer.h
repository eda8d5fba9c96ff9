// What the round engine tells those watching a run (the metrics writer, the progress bar, a
// deployment's audit log and checkpoints, later the dashboard). A simulated and a deployed run of
// the same config send the same events in the same order: updates are reported as the engine takes
// them (by client id), not as they arrive.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pagefl/engine/round_record.h"
#include "pagefl/nn/models.h"

namespace pagefl {

struct RunStarted {
  std::string algorithm;
  std::int64_t first_round = 1;  // later than 1 when a deployment resumes
  std::int64_t total_rounds = 0;
  std::int64_t num_clients = 0;
  ModelSpec model;  // the architecture every client and the server train
};

enum class RunEnd { Finished, Stopped };

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void onRunStarted(const RunStarted& /*run*/) {}
  virtual void onControlApplied(const AppliedControl& /*control*/) {}
  virtual void onRoundStarted(std::int64_t /*round*/, const std::vector<std::int64_t>& /*participants*/) {}
  virtual void onUpdateReceived(std::int64_t /*round*/, const ClientRecord& /*client*/) {}
  virtual void onUpdateRefused(std::int64_t /*round*/, const RejectedUpdate& /*refusal*/) {}
  // A deployed round that ended without a model (too few updates by the deadline, or a stop during
  // it): it is run again, or the run stops.
  virtual void onRoundDiscarded(std::int64_t /*round*/, const std::string& /*reason*/) {}
  virtual void onRoundClosed(const RoundRecord& record) = 0;
  // The personalised model of each participant of the run's last round, the one its P->L was
  // scored with, as that round's updates are taken: what the run hands over (models/personal/).
  virtual void onPersonalModel(std::int64_t /*round*/, std::int64_t /*client*/, const torch::Tensor& /*personal*/) {}
  // A finished run's global model, after its last round and before onRunEnded: what the run hands
  // over (models/global.safetensors).
  virtual void onGlobalModel(std::int64_t /*round*/, const torch::Tensor& /*global*/) {}
  // `completed`: the last round whose model was kept.
  virtual void onRunEnded(RunEnd /*end*/, std::int64_t /*completed*/) {}
};

}  // namespace pagefl
