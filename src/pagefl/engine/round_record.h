// What one simulated (or deployed) round produced, handed to the run's observers (the metrics
// writer, the progress bar, a deployment's checkpointer) when the round closes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pagefl/fl/messages.h"
#include "pagefl/nn/local_training.h"

namespace pagefl {

struct ClientRecord {
  std::int64_t client = -1;
  std::int64_t train_size = 0;
  std::int64_t test_size = 0;
  Metrics metrics;  // the client's update metrics, plus p2s_* when P->S is on
};

struct RejectedUpdate {
  std::int64_t client = -1;
  std::string reason;
};

// A setting changed between rounds by a control (run_controls.h), in force from `round` on.
struct AppliedControl {
  std::int64_t round = 0;
  std::string who;
  std::string setting;  // a config key, or "run.state" for pause, resume and stop
  std::string old_value, new_value;
};

struct RoundRecord {
  std::int64_t round = 0;
  std::int64_t total_rounds = 0;
  bool evaluated = false;
  EvalResult global_on_server;  // G->S, on evaluated rounds
  std::vector<ClientRecord> clients;  // participants, by client id
  std::vector<ClientRecord> new_clients;  // held-out clients' G->N and FT->N, on evaluated rounds
  std::vector<RejectedUpdate> rejected;
  Metrics server_metrics;
  // Settings changed by controls from this round on (pause and resume are not settings).
  std::vector<AppliedControl> settings_changed;
  const torch::Tensor* global = nullptr;  // the round's global model, while observers hear onRoundClosed
  // Costs, kept out of the deterministic metrics files (they go to timing.jsonl):
  double seconds = 0.0;                  // wall time of the round
  std::int64_t client_state_bytes = 0;   // tensors held in the ClientState store after the round
  std::int64_t client_state_memory_bytes = 0;  // of which in memory (the rest spilled to disk)
  std::int64_t peak_resident_bytes = 0;  // the process's peak resident memory so far
};

}  // namespace pagefl
