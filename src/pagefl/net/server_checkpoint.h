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
void saveCheckpoint(const std::string& path, const ServerCheckpoint& checkpoint);
// Throws pagefl::Error for a missing, corrupt or foreign file.
ServerCheckpoint loadCheckpoint(const std::string& path);

}  // namespace pagefl::net
