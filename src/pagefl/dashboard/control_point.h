// Where the dashboard steers a run: the controls of the run in progress (a simulated run of a
// comparison, or the deployment), attached by whoever owns that run and detached when it ends.
// Requests arrive as the page sends them: {"action": "pause" | "resume" | "stop" | "set",
// "setting": "page.balance", "value": 0.7}.
#pragma once

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "pagefl/engine/run_controls.h"

namespace pagefl::dashboard {

class ControlPoint {
 public:
  // `controls` must outlive the attachment; null detaches.
  void attach(RunControls* controls);

  // Throws pagefl::Error naming what to fix: no run in progress, an unknown action, a setting that
  // may not change in this run or a value out of its range (RunControls' own refusals).
  void apply(const nlohmann::json& request, const std::string& who);

  // The settings the run in progress lets change (empty when none is in progress).
  std::vector<std::string> changeableSettings() const;

 private:
  mutable std::mutex mutex_;
  RunControls* controls_ = nullptr;
};

}  // namespace pagefl::dashboard
