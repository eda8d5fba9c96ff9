#include "pagefl/pilot/compare.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "pagefl/core/config.h"
#include "pagefl/core/error.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/fl/algorithm.h"
#include "pagefl/pilot/comparison_report.h"
#include "pagefl/report/progress_bar.h"
#include "pagefl/report/run_recorder.h"
#include "pagefl/sim/simulator.h"

namespace pagefl {
namespace {

namespace fs = std::filesystem;

void writeText(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw Error("cannot write '{}'", path.string());
}

// One row per client: its local training split's label counts.
std::string partitionCsv(const FederatedDataset& data) {
  std::string out = "client";
  for (std::int64_t c = 0; c < data.num_classes; ++c) out += fmt::format(",{}", c);
  out += "\n";
  for (std::int64_t client = 0; client < data.numClients(); ++client)
    out += fmt::format("{},{}\n", client, fmt::join(labelHistogram(data.clientTrain(client).y, data.num_classes), ","));
  return out;
}

}  // namespace

ComparisonOutcome runComparison(const CompareOptions& options) {
  if (options.algorithms.empty()) throw Error("--algorithms needs at least one algorithm name");
  if (options.seeds < 1) throw Error("--seeds must be at least 1, not {}", options.seeds);
  Config base = loadConfig(options.config_path, options.overrides);
  if (base.partition.seed == 0) base.partition.seed = base.run.seed;  // one partition for every seed
  for (const std::string& algorithm : options.algorithms) {
    Config check = base;
    check.algorithm.name = algorithm;
    const auto& names = algorithmNames();
    if (std::find(names.begin(), names.end(), algorithm) == names.end())
      throw Error("--algorithms: unknown algorithm '{}'; choose from {}", algorithm, fmt::join(names, ", "));
    makeAlgorithm(check);  // fails now on a bad setting, not after hours of other runs
  }

  ComparisonOutcome outcome;
  outcome.directory = options.output_dir.empty()
                          ? (fs::path(base.run.output_dir) / (base.run.name + "-compare")).string()
                          : options.output_dir;
  fs::create_directories(outcome.directory);
  writeText(fs::path(outcome.directory) / "compare.toml", toToml(base));

  std::optional<FederatedDataset> data;  // built on the first run that needs it
  std::vector<RunResult> results;
  for (std::int64_t k = 0; k < options.seeds; ++k) {
    for (const std::string& algorithm : options.algorithms) {
      Config config = base;
      config.algorithm.name = algorithm;
      config.run.seed = base.run.seed + k;
      config.run.name = fmt::format("{}-seed{}", algorithm, config.run.seed);
      config.run.output_dir = outcome.directory;
      const fs::path run_dir = fs::path(outcome.directory) / config.run.name;
      if (isFinishedRun(run_dir.string())) {
        ++outcome.runs_reused;
      } else {
        fs::remove_all(run_dir);  // an interrupted run starts over
        if (!data) {
          data = buildFederatedDataset(base);
          writeText(fs::path(outcome.directory) / "partition.csv", partitionCsv(*data));
        }
        spdlog::info("compare: {} (seed {})", algorithm, config.run.seed);
        RunRecorder recorder(config);
        ProgressBar progress;
        std::vector<RoundObserver*> observers = {&recorder};
        if (config.run.progress) observers.push_back(&progress);
        Simulator(config, *data).run(observers);
        ++outcome.runs_done;
      }
      results.push_back(readRunResult(run_dir.string()));
    }
  }
  outcome.rows = summariseComparison(results);
  writeText(fs::path(outcome.directory) / "summary.md", comparisonMarkdown(outcome.rows));
  writeText(fs::path(outcome.directory) / "summary.csv", comparisonCsv(outcome.rows));
  outcome.report = writeComparisonReport(outcome.directory, outcome.rows);
  return outcome;
}

}  // namespace pagefl
