// Writes a run directory:
//   config.toml     the resolved config
//   rounds.jsonl    one line per round: G->S and the client aggregates of each stream
//   clients.jsonl   one line per participating client per round
//   timing.jsonl    wall time per round (kept apart: metrics files are identical across W)
//   controls.jsonl  every control applied (pause, stop, a setting changed), with who asked and the
//                   old and new values; `pagefl run --replay-controls` replays it
//   summary.json    final and best value of each stream, once the run finished its last round
//   models/         the final global model (global.safetensors), once the run finished, the last
//                   round's participants' personalised models (personal/<client>.safetensors),
//                   and with run.keep_best the best G->S round's (best_global.safetensors)
#pragma once

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "pagefl/core/config.h"
#include "pagefl/engine/run_observer.h"
#include "pagefl/nn/flat_model.h"

namespace pagefl {

// Final and best value of one series, with the rounds they come from.
struct SeriesSummary {
  double final_value = 0;
  std::int64_t final_round = 0;
  double best_value = 0;
  std::int64_t best_round = 0;
};

class RunRecorder final : public RunObserver {
 public:
  // Creates <output_dir>/<name>, or <name>-2, -3, ... when that exists, so no run is overwritten.
  explicit RunRecorder(const Config& config);
  // Writes into `directory` (a deployment's fixed run directory). Its files keep the rounds up to
  // `resume_after_round` (0: none), so that a resumed run continues them without duplicates.
  RunRecorder(const Config& config, const std::string& directory, std::int64_t resume_after_round);

  const std::string& directory() const { return directory_; }
  const std::map<std::string, SeriesSummary>& summary() const { return summary_; }
  double totalSeconds() const { return total_seconds_; }

  void onRunStarted(const RunStarted& run) override;
  void onControlApplied(const AppliedControl& control) override;
  void onPersonalModel(std::int64_t round, std::int64_t client, const torch::Tensor& personal) override;
  void onGlobalModel(std::int64_t round, const torch::Tensor& global) override;
  void onRoundClosed(const RoundRecord& record) override;
  void onRunEnded(RunEnd end, std::int64_t completed) override;

 private:
  void track(const std::string& series, double value, std::int64_t round);
  // Final and best values from one rounds.jsonl line.
  void trackLine(const nlohmann::json& line);

  Config config_;
  ModelSpec model_;
  ParamLayout layout_;  // of model_: the names and shapes its exported files give the parameters
  std::string directory_;
  std::ofstream rounds_, clients_, timing_, controls_;
  std::map<std::string, SeriesSummary> summary_;
  std::int64_t rounds_seen_ = 0;
  double total_seconds_ = 0;
};

// One line of rounds.jsonl: G->S and each client stream's aggregates (mean, worst, 10th
// percentile, ...), the rejected updates and the server's metrics (PAGE's weights among them).
nlohmann::json roundLine(const RoundRecord& record);
// One line of clients.jsonl: a participant's sizes and update metrics (PAGE's lr and epochs).
nlohmann::json clientLine(std::int64_t round, const ClientRecord& client);

// The controls a run directory's controls.jsonl records, to replay them (RunControls::schedule).
// Throws pagefl::Error naming the line that cannot be read.
std::vector<AppliedControl> readControls(const std::string& path);

// A readable table of a run's summary, for the terminal.
std::string formatSummary(const std::map<std::string, SeriesSummary>& summary);

}  // namespace pagefl
