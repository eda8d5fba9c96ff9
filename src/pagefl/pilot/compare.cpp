#include "pagefl/pilot/compare.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "pagefl/core/config.h"
#include "pagefl/core/directories.h"
#include "pagefl/core/error.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/fl/algorithm.h"
#include "pagefl/pilot/comparison_report.h"
#include "pagefl/report/progress_bar.h"
#include "pagefl/report/run_recorder.h"
#include "pagefl/sim/sharding.h"
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
    out += fmt::format("{},{}\n", client, fmt::join(data.clients[client].train_label_counts, ","));
  return out;
}

// One run, recorded in <run.output_dir>/<run.name>, also reported to `watcher` when one is set.
void trainRun(const Config& config, const FederatedDataset& federated, ComparisonWatcher* watcher = nullptr) {
  RunRecorder recorder(config);
  ProgressBar progress;
  std::vector<RunObserver*> observers = {&recorder};
  if (config.run.progress) observers.push_back(&progress);
  RunControls* controls = nullptr;
  if (watcher) {
    controls = watcher->controlsFor(config.run.name, config);
    if (RunObserver* observer = watcher->observerFor(config.run.name)) observers.push_back(observer);
  }
  Simulator(config, federated).run(observers, controls);
}

// Variant v's config: the comparison's overrides, the variant's, then `extra` (tuned settings).
Config configOf(const CompareOptions& options, std::size_t v, const std::vector<std::string>& extra) {
  std::vector<std::string> overrides = options.overrides;
  const Variant& variant = options.variants[v];
  overrides.insert(overrides.end(), variant.overrides.begin(), variant.overrides.end());
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  return loadConfig(options.config_path, overrides);
}

// Each variant's trials (tuning.h) on the validation view; returns each variant's chosen overrides
// and writes tuning/tuning.json.
std::vector<std::vector<std::string>> tuneVariants(const CompareOptions& options, const Config& base,
                                                   const std::function<const FederatedDataset&()>& federation,
                                                   const std::string& directory) {
  const FederatedDataset validation = validationView(federation());
  std::vector<TuneResult> results;
  std::vector<std::vector<std::string>> chosen;
  for (std::size_t v = 0; v < options.variants.size(); ++v) {
    auto configWith = [&](const std::vector<std::string>& extra) {
      Config config = configOf(options, v, extra);
      config.partition.seed = base.partition.seed;
      return config;
    };
    const std::string& name = options.variants[v].name;
    results.push_back(tuneVariant(name, configWith, validation, *options.tune,
                                  (fs::path(directory) / "tuning" / name).string(),
                                  [](const Config& config, const FederatedDataset& data) { trainRun(config, data); }));
    chosen.push_back(results.back().chosenOverrides());
    spdlog::info("tune: {} chose {}", name, fmt::join(chosen.back(), " "));
  }
  writeText(fs::path(directory) / "tuning" / "tuning.json",
            tuningJson(*options.tune, base.partition.validation_fraction, results));
  return chosen;
}

}  // namespace

std::optional<double> sweptBalance(const std::string& variant) {
  const std::string prefix = kBalanceVariantPrefix;
  if (variant.rfind(prefix, 0) != 0) return std::nullopt;
  const std::string number = variant.substr(prefix.size());
  std::size_t end = 0;
  try {
    const double balance = std::stod(number, &end);
    if (end == number.size()) return balance;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::vector<Variant> algorithmVariants(const std::vector<std::string>& algorithms) {
  std::vector<Variant> variants;
  const auto& names = algorithmNames();
  for (const std::string& algorithm : algorithms) {
    if (std::find(names.begin(), names.end(), algorithm) == names.end())
      throw Error("--algorithms: unknown algorithm '{}'; choose from {}", algorithm, fmt::join(names, ", "));
    variants.push_back({algorithm, {"algorithm.name=" + algorithm}});
  }
  return variants;
}

std::vector<Variant> sweepVariants(const std::vector<std::string>& ratios, const std::vector<std::string>& balances,
                                   bool ablations, const std::vector<std::string>& baselines) {
  std::vector<Variant> variants;
  for (const std::string& balance : balances) {
    const std::optional<double> value = sweptBalance(kBalanceVariantPrefix + balance);
    if (!value || !(*value >= 0 && *value <= 1))
      throw Error("--balance: '{}' is not a number between 0 (each site's own model) and 1 (the company-wide "
                  "model)",
                  balance.substr(0, 40));
    variants.push_back({fmt::format("{}{}", kBalanceVariantPrefix, balance),
                        {"algorithm.name=page", "page.balance=" + balance}});
  }
  for (const std::string& ratio : ratios) {
    const auto colon = ratio.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == ratio.size())
      throw Error("--ratios: '{}' is not client:server, e.g. 5:1", ratio);
    const std::string c = ratio.substr(0, colon), s = ratio.substr(colon + 1);
    variants.push_back({fmt::format("page-c{}s{}", c, s),
                        {"algorithm.name=page", "page.client_reward_weight=" + c, "page.server_reward_weight=" + s}});
  }
  if (ablations) {
    variants.push_back({"page-fixed-lr", {"algorithm.name=page", "page.adapt_lr=false"}});
    variants.push_back({"page-fixed-epochs", {"algorithm.name=page", "page.adapt_epochs=false"}});
    variants.push_back({"page-uniform-weights", {"algorithm.name=page", "page.adapt_weights=false"}});
  }
  // "none" is how the command line asks for PAGE alone, since its baselines have a default.
  if (baselines == std::vector<std::string>{"none"}) return variants;
  for (Variant& baseline : algorithmVariants(baselines)) variants.push_back(std::move(baseline));
  return variants;
}

ComparisonOutcome runComparison(const CompareOptions& options) {
  if (options.variants.empty()) throw Error("nothing to compare: name at least one algorithm or variant");
  if (options.seeds < 1) throw Error("--seeds must be at least 1, not {}", options.seeds);
  Config base = loadConfig(options.config_path, options.overrides);
  if (base.partition.seed == 0) base.partition.seed = base.run.seed;  // one partition for every seed
  if (options.tune && base.partition.validation_fraction <= 0)
    throw Error("--tune scores trials on a validation split carved from each client's training data, and "
                "partition.validation_fraction is 0: set it, e.g. partition.validation_fraction=0.2");
  // Every variant's config is checked before any run, so a typo fails now, not hours later.
  std::vector<Config> configs;
  for (std::size_t v = 0; v < options.variants.size(); ++v) {
    configs.push_back(configOf(options, v, {}));
    makeAlgorithm(configs.back());
  }

  ComparisonOutcome outcome;
  outcome.directory = options.output_dir.empty()
                          ? (fs::path(base.run.output_dir) / (base.run.name + "-compare")).string()
                          : options.output_dir;
  ensureDirectory(outcome.directory, "the results directory (--output)");
  writeText(fs::path(outcome.directory) / "compare.toml", toToml(base));

  std::optional<FederatedDataset> data;  // built on the first run that needs it
  auto federation = [&]() -> const FederatedDataset& {
    if (!data) {
      data = buildFederatedDataset(base, dataSelection(base));
      writeText(fs::path(outcome.directory) / "partition.csv", partitionCsv(*data));
    }
    return *data;
  };

  if (options.tune) {
    const auto chosen = tuneVariants(options, base, federation, outcome.directory);
    for (std::size_t v = 0; v < configs.size(); ++v) configs[v] = configOf(options, v, chosen[v]);
  }

  struct PlannedRun {
    std::size_t variant;
    Config config;
  };
  std::vector<PlannedRun> plan;
  for (std::int64_t k = 0; k < options.seeds; ++k) {
    for (std::size_t v = 0; v < options.variants.size(); ++v) {
      Config config = configs[v];
      config.partition.seed = base.partition.seed;
      config.run.seed = base.run.seed + k;
      config.run.name = fmt::format("{}-seed{}", options.variants[v].name, config.run.seed);
      config.run.output_dir = outcome.directory;
      plan.push_back({v, std::move(config)});
    }
  }
  if (options.watcher) {
    std::vector<std::string> names;
    for (const PlannedRun& run : plan) names.push_back(run.config.run.name);
    options.watcher->comparisonPlanned(outcome.directory, names);
  }

  std::vector<RunResult> results;
  for (const PlannedRun& run : plan) {
    const Config& config = run.config;
    const std::string& variant = options.variants[run.variant].name;
    const fs::path run_dir = fs::path(outcome.directory) / config.run.name;
    if (reusableRunOf(run_dir.string(), config)) {
      ++outcome.runs_reused;
      if (options.watcher) options.watcher->runReused(config.run.name);
    } else {
      spdlog::info("compare: {} (seed {})", variant, config.run.seed);
      trainRun(config, federation(), options.watcher);
      ++outcome.runs_done;
      if (!isFinishedRun(run_dir.string())) {
        spdlog::info("compare: stopped during {}; the finished runs are kept and reused by the next compare",
                     config.run.name);
        outcome.stopped = true;
        return outcome;
      }
    }
    results.push_back(readRunResult(run_dir.string()));
    results.back().algorithm = variant;
  }
  outcome.rows = summariseComparison(results);
  writeText(fs::path(outcome.directory) / "summary.md", comparisonMarkdown(outcome.rows));
  writeText(fs::path(outcome.directory) / "summary.csv", comparisonCsv(outcome.rows));
  outcome.report = writeComparisonReport(outcome.directory, outcome.rows);
  return outcome;
}

}  // namespace pagefl
