// The round engine's events (engine/run_observer.h) as the dashboard's JSON events, tagged with the
// run they belong to. The round's record is the same line rounds.jsonl gets, and each participant's
// the line clients.jsonl gets, so the page and the run directory never disagree.
#pragma once

#include <string>

#include "pagefl/dashboard/event_log.h"
#include "pagefl/engine/run_controls.h"
#include "pagefl/engine/run_observer.h"

namespace pagefl::dashboard {

// The settings `controls` lets an operator change, with their values in `config`: {"page.balance": "0.5"}.
nlohmann::json changeableSettingsIn(const Config& config, const RunControls& controls);

class RunEvents final : public RunObserver {
 public:
  // `settings`: the settings an operator may change in this run with their values, announced with
  // the run's start so that the page shows what is in force.
  RunEvents(EventLog& log, std::string run, nlohmann::json settings = nlohmann::json::object());

  void onRunStarted(const RunStarted& run) override;
  void onControlApplied(const AppliedControl& control) override;
  void onRoundStarted(std::int64_t round, const std::vector<std::int64_t>& participants) override;
  void onUpdateReceived(std::int64_t round, const ClientRecord& client) override;
  void onUpdateRefused(std::int64_t round, const RejectedUpdate& refusal) override;
  void onRoundDiscarded(std::int64_t round, const std::string& reason) override;
  void onRoundClosed(const RoundRecord& record) override;
  void onRunEnded(RunEnd end, std::int64_t completed) override;

 private:
  void emit(const char* type, nlohmann::json fields);

  EventLog& log_;
  std::string run_;
  nlohmann::json settings_;
};

}  // namespace pagefl::dashboard
