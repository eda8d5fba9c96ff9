// What a finished run directory says, in the numbers a comparison reports: each stream's value at
// the final evaluated round and at its best evaluated round, the spread across clients, and time.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pagefl {

struct Config;

struct RunResult {
  std::string algorithm;  // the run's algorithm.name; a comparison replaces it by its variant's name
  std::int64_t seed = 0;
  std::int64_t final_round = 0;
  double g2s_final = 0, g2s_best = 0;              // G->S accuracy
  double p2l_final = 0, p2l_best = 0;              // P->L accuracy, mean over clients
  double p2l_std_final = 0, p2l_worst_final = 0;   // P->L across clients at the final round
  double p2l_p10_final = 0;
  double g2n_final = NAN, ft2n_final = NAN;        // new clients (eval.new_clients), when held out
  double seconds_per_round = 0;
  // After a demand shift (page.shift_round or partition.late_join_round): evaluated rounds from the
  // shift until the stream is back at its last value before it; NaN without a shift or when it
  // never recovers within the run.
  double g2s_recovery_rounds = NAN, p2l_recovery_rounds = NAN;
};

// Rounds from `shift` until `series` (round -> value, evaluated rounds) first reaches its last
// value before `shift` again; NaN when there is no value before the shift or no recovery.
double roundsToRecover(const std::vector<std::pair<std::int64_t, double>>& series, std::int64_t shift);

// Whether `directory` holds a run that ran to its end (its summary.json is written last).
bool isFinishedRun(const std::string& directory);

// Readies `directory` for a run of `config` and says whether a finished run of that very config is
// already there to reuse. Otherwise the directory is cleared: an unfinished run is removed; a
// finished one of another config (its config.toml differs) is moved to replaced/<name> beside it
// (then <name>-2, ...), never deleted, and never read by a table or report.
bool reusableRunOf(const std::string& directory, const Config& config);

// Reads rounds.jsonl, timing.jsonl and config.toml of a finished run; throws pagefl::Error naming
// the file when one is missing or malformed.
RunResult readRunResult(const std::string& directory);

}  // namespace pagefl
