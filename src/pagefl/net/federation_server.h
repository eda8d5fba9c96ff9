// `pagefl server`: the deployed federation's server. It runs the config's algorithm (the same
// server half as the simulator) over sites that connect through gRPC, writes the simulator's
// metrics files, audits every update and checkpoints after rounds; --resume continues a run.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "pagefl/engine/run_controls.h"
#include "pagefl/engine/run_observer.h"

namespace pagefl::net {

struct ServerOptions {
  std::string config_path;
  std::vector<std::string> overrides;
  bool resume = false;
  // With --resume and no audit log in the run directory: start a new, empty one (the record of
  // earlier rounds is then lost) instead of refusing.
  bool new_audit_log = false;
  // For a process that hosts the server (a test, a dashboard): more observers of the run, and a
  // hook handed the run's controls before the first round, to steer it from another thread.
  std::vector<RunObserver*> observers;
  std::function<void(RunControls&)> on_controls;
};

// Where a deployed server keeps its run: deploy.run_dir, or <run.output_dir>/<run.name>.
std::string runDirectory(const Config& config);

// Runs until the last round or SIGINT/SIGTERM. Returns the process exit code.
int runServer(const ServerOptions& options);

}  // namespace pagefl::net
