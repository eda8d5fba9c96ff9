// `pagefl compare`: every algorithm x seed on one partition, in one results directory, resumable.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pagefl/engine/run_controls.h"
#include "pagefl/pilot/comparison_table.h"
#include "pagefl/pilot/tuning.h"

namespace pagefl {

// One contender: a name for the table and the overrides that make it (for `compare`, the name is
// the algorithm and the override algorithm.name; `sweep` adds PAGE variants).
struct Variant {
  std::string name;
  std::vector<std::string> overrides;
};

// Someone following a comparison run by run (the dashboard): what each run reports to, and the
// controls that steer it. A run stopped through its controls ends the comparison there.
class ComparisonWatcher {
 public:
  virtual ~ComparisonWatcher() = default;
  // The runs, in the order they train (reused ones included), before the first starts.
  virtual void comparisonPlanned(const std::string& /*directory*/, const std::vector<std::string>& /*runs*/) {}
  // A finished run of the same config found in the directory and kept.
  virtual void runReused(const std::string& /*run*/) {}
  // Before `run` trains, in this order: its controls (or null), then an observer to add (or null).
  virtual RunControls* controlsFor(const std::string& run, const Config& config) = 0;
  virtual RunObserver* observerFor(const std::string& run) = 0;
};

struct CompareOptions {
  std::string config_path;
  std::vector<std::string> overrides;
  std::vector<Variant> variants;
  std::int64_t seeds = 1;
  std::string output_dir;  // empty: <run.output_dir>/<run.name>-compare
  std::optional<TuneOptions> tune;  // set: tune every variant first (see tuning.h)
  ComparisonWatcher* watcher = nullptr;  // follows the comparison's runs (not the tuning trials)
};

struct ComparisonOutcome {
  std::string directory;
  std::vector<ComparisonRow> rows;
  std::int64_t runs_done = 0;     // runs this call trained
  std::int64_t runs_reused = 0;   // finished runs found in the directory and kept
  std::string report;             // the HTML report's path
  bool stopped = false;           // a run was stopped through its controls: no summary, no report
};

// Seeds are run.seed, run.seed + 1, ...; the partition is drawn once from partition.seed (or the
// config's run.seed) and shared by every run. Each run goes to <directory>/<variant>-seed<k>.
// A run whose directory has a summary.json is kept; an unfinished one is removed and redone; a
// finished one of another config is moved to <directory>/replaced/ (nothing finished is deleted)
// and redone.
// With `tune`, each variant's trials run first under <directory>/tuning/<variant>/ on the
// validation view, tuning/tuning.json records them, and every seed's run takes the chosen setting.
// Writes summary.md, summary.csv, partition.csv (training labels per client) and the report
// (report.html with its charts under report/) into the directory.
ComparisonOutcome runComparison(const CompareOptions& options);

// `compare --algorithms a,b`: one variant per algorithm.
std::vector<Variant> algorithmVariants(const std::vector<std::string>& algorithms);

// Names of `sweep --balance` variants: this prefix, then the balance as given ("page-b0.25").
inline constexpr const char* kBalanceVariantPrefix = "page-b";

// The balance of a `sweep --balance` variant's name; nullopt for any other name.
std::optional<double> sweptBalance(const std::string& variant);

// `sweep`: PAGE at each page.balance ("0.25"), at each client:server reward-weight ratio ("5:1"),
// optionally PAGE's three ablations, then the baselines (baselines {"none"} adds none), for the
// global-versus-local trade-off chart.
std::vector<Variant> sweepVariants(const std::vector<std::string>& ratios, const std::vector<std::string>& balances,
                                   bool ablations, const std::vector<std::string>& baselines);

}  // namespace pagefl
