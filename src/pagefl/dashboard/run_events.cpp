#include "pagefl/dashboard/run_events.h"

#include "pagefl/report/run_recorder.h"

namespace pagefl::dashboard {

using nlohmann::json;

json changeableSettingsIn(const Config& config, const RunControls& controls) {
  json settings = json::object();
  for (const std::string& setting : controls.changeableSettings()) settings[setting] = settingText(config, setting);
  return settings;
}

RunEvents::RunEvents(EventLog& log, std::string run, json settings)
    : log_(log), run_(std::move(run)), settings_(std::move(settings)) {}

void RunEvents::emit(const char* type, json fields) {
  fields["type"] = type;
  fields["run"] = run_;
  log_.append(std::move(fields));
}

void RunEvents::onRunStarted(const RunStarted& run) {
  emit("run_started", {{"algorithm", run.algorithm},
                       {"first_round", run.first_round},
                       {"total_rounds", run.total_rounds},
                       {"num_clients", run.num_clients},
                       {"settings", settings_}});
}

void RunEvents::onControlApplied(const AppliedControl& control) {
  if (settings_.contains(control.setting)) settings_[control.setting] = control.new_value;
  emit("control_applied", {{"round", control.round},
                           {"who", control.who},
                           {"setting", control.setting},
                           {"old", control.old_value},
                           {"new", control.new_value}});
}

void RunEvents::onRoundStarted(std::int64_t round, const std::vector<std::int64_t>& participants) {
  emit("round_started", {{"round", round}, {"participants", participants}, {"settings", settings_}});
}

void RunEvents::onUpdateReceived(std::int64_t round, const ClientRecord& client) {
  emit("update_received", {{"round", round}, {"client", clientLine(round, client)}});
}

void RunEvents::onUpdateRefused(std::int64_t round, const RejectedUpdate& refusal) {
  emit("update_refused", {{"round", round}, {"client", refusal.client}, {"reason", refusal.reason}});
}

void RunEvents::onRoundDiscarded(std::int64_t round, const std::string& reason) {
  emit("round_discarded", {{"round", round}, {"reason", reason}});
}

void RunEvents::onRoundClosed(const RoundRecord& record) {
  emit("round_closed", {{"round", record.round},
                        {"total_rounds", record.total_rounds},
                        {"seconds", record.seconds},
                        {"line", roundLine(record)}});
}

void RunEvents::onRunEnded(RunEnd end, std::int64_t completed) {
  emit("run_ended", {{"end", end == RunEnd::Finished ? "finished" : "stopped"}, {"completed", completed}});
}

}  // namespace pagefl::dashboard
