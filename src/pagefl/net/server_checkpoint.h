// The deployed server's complete state after a round, in one file replaced atomically:
// the round, the server half's state (global model, PAGE's agent and replay, momenta), the
// config it ran with, and the registry of sites that had joined. RNG streams need no state:
// every draw is keyed by (seed, purpose, round, client). Metrics live in the run directory's
// files, cut back to the checkpoint's round on resume.
#pragma once

#include <string>
#include <vector>

#include "pagefl/fl/messages.h"
#include "pagefl/net/round_coordinator.h"

namespace pagefl::net {

struct ServerCheckpoint {
  std::int64_t round = 0;  // the last completed round
  NamedTensors server_state;
  std::string config_toml;
  std::vector<Site> sites;  // names and data sizes, for the record: sites join again after a restart
};

std::string checkpointPath(const std::string& run_dir);
// A sealed file (state_archive.h): damage is refused on load.
void saveCheckpoint(const std::string& path, const ServerCheckpoint& checkpoint);
// Throws pagefl::Error for a missing, damaged or foreign file, and for contents no run of
// `rounds` rounds over a model of `model_size` parameters could have written (a round out of
// range, a global model of another size, NaN or Inf anywhere).
ServerCheckpoint loadCheckpoint(const std::string& path, std::int64_t rounds, std::int64_t model_size);

}  // namespace pagefl::net
