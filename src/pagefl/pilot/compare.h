// `pagefl compare`: every algorithm x seed on one partition, in one results directory, resumable.
#pragma once

#include <string>
#include <vector>

#include "pagefl/pilot/comparison_table.h"

namespace pagefl {

struct CompareOptions {
  std::string config_path;
  std::vector<std::string> overrides;
  std::vector<std::string> algorithms;
  std::int64_t seeds = 1;
  std::string output_dir;  // empty: <run.output_dir>/<run.name>-compare
};

struct ComparisonOutcome {
  std::string directory;
  std::vector<ComparisonRow> rows;
  std::int64_t runs_done = 0;     // runs this call trained
  std::int64_t runs_reused = 0;   // finished runs found in the directory and kept
  std::string report;             // the HTML report's path
};

// Seeds are run.seed, run.seed + 1, ...; the partition is drawn once from partition.seed (or the
// config's run.seed) and shared by every run. Each run goes to <directory>/<algorithm>-seed<k>.
// A run whose directory has a summary.json is kept; an unfinished one is removed and redone.
// Writes summary.md, summary.csv, partition.csv (training labels per client) and the report
// (report.html with its charts under report/) into the directory.
ComparisonOutcome runComparison(const CompareOptions& options);

}  // namespace pagefl
