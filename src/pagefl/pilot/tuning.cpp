#include "pagefl/pilot/tuning.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

#include "pagefl/core/error.h"
#include "pagefl/core/rng.h"
#include "pagefl/pilot/run_results.h"

namespace pagefl {
namespace {

namespace fs = std::filesystem;

// A stable 64-bit hash of a name (FNV-1a), so a contender's draws do not depend on its position.
std::int64_t nameHash(const std::string& name) {
  std::uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : name) hash = (hash ^ c) * 1099511628211ull;
  return static_cast<std::int64_t>(hash >> 1);
}

std::string assignment(const TuneDimension& dimension, double value) {
  if (dimension.integer) return fmt::format("{}={}", dimension.key, static_cast<std::int64_t>(std::llround(value)));
  return fmt::format("{}={:.6g}", dimension.key, value);
}

double draw(const TuneDimension& dimension, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(0, 1);
  const double u = unit(rng);
  if (dimension.integer)  // every integer in [low, high] equally likely
    return std::min(dimension.high, std::floor(dimension.low + u * (dimension.high - dimension.low + 1)));
  if (dimension.log) return std::exp(std::log(dimension.low) + u * (std::log(dimension.high) - std::log(dimension.low)));
  return dimension.low + u * (dimension.high - dimension.low);
}

// The config's own value of a numeric key.
class NumberOf final : public ConfigFieldVisitor {
 public:
  explicit NumberOf(std::string key) : key_(std::move(key)) {}
  std::optional<double> value;
  void integer(const std::string& key, std::int64_t& v, Bounds, const char*) override {
    if (key == key_) value = static_cast<double>(v);
  }
  void real(const std::string& key, double& v, Bounds, const char*) override {
    if (key == key_) value = v;
  }
  void flag(const std::string&, bool&, const char*) override {}
  void text(const std::string&, std::string&, const std::vector<std::string>&, const char*) override {}
  void integers(const std::string&, std::vector<std::int64_t>&, Bounds, const char*) override {}
  void texts(const std::string&, std::vector<std::string>&, const char*) override {}

 private:
  std::string key_;
};

double currentValue(Config config, const std::string& key) {
  NumberOf reader(key);
  describeConfig(config, reader);
  if (!reader.value) throw Error("tuning: the config has no number '{}'", key);
  return *reader.value;
}

double scoreOf(const std::string& objective, double global, double local) {
  if (objective == "global") return global;
  if (objective == "local") return local;
  return (global + local) / 2;
}

}  // namespace

std::vector<TuneDimension> searchSpace(const Config& config) {
  const double lr = std::max(config.train.lr, config.page.lr_max);
  const auto epochs = static_cast<double>(std::max(config.train.epochs, config.page.epoch_max));
  const std::string& name = config.algorithm.name;
  std::vector<TuneDimension> space;
  if (name == "page" || name == "dapfl") {
    // The agents choose within [lr_min, lr_max] and [1, epoch_max]: the bounds are what is tuned.
    space.push_back({"page.lr_max", std::max(lr / 10, 2 * config.page.lr_min), 3 * lr, true, false});
    space.push_back({"page.epoch_max", 1, epochs, false, true});
  } else {
    space.push_back({"train.lr", lr / 10, 3 * lr, true, false});
    space.push_back({"train.epochs", 1, epochs, false, true});
  }
  // The method's own coefficient, as its file registers it (core/algorithm_catalog.h).
  const std::vector<TuneDimension>& own = algorithmEntry(name).own_coefficients;
  space.insert(space.end(), own.begin(), own.end());
  return space;
}

TuneResult tuneVariant(const std::string& variant, const std::function<Config(const std::vector<std::string>&)>& configWith,
                       const FederatedDataset& validation, const TuneOptions& options, const std::string& directory,
                       const TrainRun& train) {
  if (options.trials < 1 || options.trials > 10000)
    throw Error("--trials must be between 1 and 10000, not {}", options.trials);
  if (options.objective != "mean" && options.objective != "global" && options.objective != "local")
    throw Error("--tune-for must be mean, global or local, not '{}'", options.objective.substr(0, 40));
  const Config untuned = configWith({});
  TuneResult result;
  result.variant = variant;
  result.space = searchSpace(untuned);

  for (std::int64_t k = 0; k < options.trials; ++k) {
    TuneTrial trial;
    std::mt19937_64 rng(RngStreams(static_cast<std::uint64_t>(untuned.run.seed)).derive(Purpose::Tuning, k, nameHash(variant)));
    for (const TuneDimension& dimension : result.space)
      trial.overrides.push_back(assignment(dimension, k == 0 ? currentValue(untuned, dimension.key) : draw(dimension, rng)));
    std::vector<std::string> overrides = trial.overrides;
    if (options.rounds > 0) overrides.push_back(fmt::format("run.rounds={}", options.rounds));  // checked like any
    Config config = configWith(overrides);
    config.run.name = fmt::format("trial-{}", k);
    config.run.output_dir = directory;
    const fs::path run_dir = fs::path(directory) / config.run.name;
    if (!reusableRunOf(run_dir.string(), config)) {
      spdlog::info("tune: {} trial {}/{}: {}", variant, k + 1, options.trials, fmt::join(trial.overrides, " "));
      train(config, validation);
    }
    const RunResult run = readRunResult(run_dir.string());
    trial.global = run.g2s_final;
    trial.local = run.p2l_final;
    trial.score = scoreOf(options.objective, trial.global, trial.local);
    result.trials.push_back(std::move(trial));
  }
  for (std::size_t k = 1; k < result.trials.size(); ++k)
    if (result.trials[k].score > result.trials[result.chosen].score) result.chosen = k;
  return result;
}

std::string tuningJson(const TuneOptions& options, double validation_fraction, const std::vector<TuneResult>& results) {
  nlohmann::json out = {{"trials_per_contender", options.trials},
                        {"rounds_per_trial", options.rounds},
                        {"objective", options.objective},
                        {"validation_fraction", validation_fraction},
                        {"scored_on", "validation splits (G->V: pooled validation, P->V: each client's own)"}};
  nlohmann::json contenders = nlohmann::json::array();
  for (const TuneResult& result : results) {
    nlohmann::json space = nlohmann::json::array(), trials = nlohmann::json::array();
    for (const TuneDimension& d : result.space)
      space.push_back({{"key", d.key}, {"low", d.low}, {"high", d.high}, {"log", d.log}, {"integer", d.integer}});
    for (const TuneTrial& t : result.trials)
      trials.push_back({{"overrides", t.overrides}, {"global_validation_acc", t.global},
                        {"local_validation_acc", t.local}, {"score", t.score}});
    contenders.push_back({{"variant", result.variant}, {"space", space}, {"trials", trials},
                          {"chosen_trial", result.chosen}, {"chosen", result.chosenOverrides()}});
  }
  out["contenders"] = contenders;
  return out.dump(2) + "\n";
}

}  // namespace pagefl
