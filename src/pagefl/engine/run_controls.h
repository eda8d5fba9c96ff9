// Steering a run between rounds: pause, resume, stop gracefully, and changes to the few settings
// an operator may change mid-run. Requests come from any thread (a dashboard, a signal handler's
// poller, a test) and are checked when made, so a bad value is refused at once with the allowed
// range; the round engine applies them in the order made, before the next round starts, and its
// observers record each with who asked and the old and new values. A recorded change can be
// scheduled into a new run, which then replays the recorded one exactly.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "pagefl/core/config.h"
#include "pagefl/engine/run_observer.h"

namespace pagefl {

enum class RunKind { Simulated, Deployed };

struct ControlRequest {
  enum class Kind { Pause, Resume, Stop, Set } kind = Kind::Set;
  std::string setting, value;  // Set only
  std::string who;
  std::int64_t round = 0;  // 0: from the next round; otherwise not before this round (a replay)
};

// "run.state": the pseudo-setting that pause, resume and stop change (running, paused, stopped).
inline constexpr const char* kRunState = "run.state";

class RunControls {
 public:
  // `config` is the run's: it decides which settings apply (PAGE's only to PAGE, the round
  // deadline only to a deployment).
  RunControls(const Config& config, RunKind kind);

  // The settings that may change mid-run, for this kind of run and this config.
  std::vector<std::string> changeableSettings() const;

  void pause(const std::string& who);
  void resume(const std::string& who);
  void stop(const std::string& who);
  // Throws pagefl::Error, naming the allowed values, when `setting` may not change in this run or
  // `value` is out of its range; the change is in force from the next round.
  void set(const std::string& setting, const std::string& value, const std::string& who);
  // A change recorded by an earlier run (the engine's AppliedControl), applied when `round`
  // starts. Pause and resume are not replayed: they change nothing a run computes.
  void schedule(const AppliedControl& recorded);

  // The engine's side. Requests due when `round` starts, in the order made (taken off the queue).
  std::vector<ControlRequest> takeDue(std::int64_t round);
  // Waits until a request arrives or `timeout` passes.
  void waitForRequest(std::chrono::milliseconds timeout);

 private:
  void push(ControlRequest request);
  // Throws pagefl::Error naming what may change when `setting` may not, or the range of `value`.
  void check(const std::string& setting, const std::string& value, const std::string& refusal) const;

  Config config_;
  RunKind kind_;
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<ControlRequest> queue_;
};

// The value of `setting` in `config`, as TOML writes it ("running"/"paused" are not settings).
std::string settingText(const Config& config, const std::string& setting);
// `config` with `setting` = `value` (TOML text), checked as a config file would be. A reward
// weight or the balance also replaces its scheduled demand-shift value, so an operator's word
// holds from the round it is applied.
Config withSetting(const Config& config, const std::string& setting, const std::string& value);

}  // namespace pagefl
