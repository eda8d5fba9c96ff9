#include "pagefl/dashboard/pilot_jobs.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "pagefl/core/algorithm_catalog.h"
#include "pagefl/core/config.h"
#include "pagefl/core/error.h"
#include "pagefl/dashboard/run_events.h"
#include "pagefl/data/federated_dataset.h"

namespace pagefl::dashboard {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::int64_t kMaxSites = 1000, kMaxRounds = 1000, kMaxSeeds = 10;
constexpr std::size_t kMaxPathLength = 4096, kMaxListLength = 32;

// A name that is one directory and nothing else: letters, digits, '-', '_', '.'; not starting with '.'.
bool plainName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

template <typename T>
T field(const json& body, const char* key, T fallback) {
  if (!body.contains(key) || body[key].is_null()) return fallback;
  try {
    return body[key].get<T>();
  } catch (const json::exception&) {
    throw Error("\"{}\" has the wrong type: {}", key, body[key].dump().substr(0, 40));
  }
}

void checkRange(const char* what, double value, double low, double high) {
  if (!(value >= low && value <= high)) throw Error("{} must be between {} and {}, not {}", what, low, high, value);
}

std::string stamp() {
  const auto now = std::chrono::system_clock::now();
  return fmt::format("dashboard-{:%Y%m%d-%H%M%S}", fmt::gmtime(std::chrono::system_clock::to_time_t(now)));
}

// Picks the choices of one text field out of the config schema.
class ChoicesOf final : public ConfigFieldVisitor {
 public:
  explicit ChoicesOf(std::string key) : key_(std::move(key)) {}
  std::vector<std::string> choices;

  void integer(const std::string&, std::int64_t&, Bounds, const char*) override {}
  void real(const std::string&, double&, Bounds, const char*) override {}
  void flag(const std::string&, bool&, const char*) override {}
  void text(const std::string& key, std::string&, const std::vector<std::string>& values, const char*) override {
    if (key == key_) choices = values;
  }
  void integers(const std::string&, std::vector<std::int64_t>&, Bounds, const char*) override {}
  void texts(const std::string&, std::vector<std::string>&, const char*) override {}

 private:
  std::string key_;
};

}  // namespace

std::vector<std::string> dataSources() {
  Config defaults;
  ChoicesOf finder("data.source");
  describeConfig(defaults, finder);
  return finder.choices;
}

ComparisonRequest parseComparisonRequest(const json& body) {
  if (!body.is_object()) throw Error("send the comparison as a JSON object");
  ComparisonRequest request;
  request.name = field<std::string>(body, "name", stamp());
  if (!plainName(request.name))
    throw Error("the comparison's name '{}' must be 1 to 64 letters, digits, '-', '_' or '.'",
                request.name.substr(0, 40));
  request.data_source = field<std::string>(body, "data", "fashion-mnist");
  request.data_path = field<std::string>(body, "path", "");
  if (request.data_path.size() > kMaxPathLength)
    throw Error("the data path is longer than {} characters", kMaxPathLength);
  if (std::any_of(request.data_path.begin(), request.data_path.end(),
                  [](char c) { return std::iscntrl(static_cast<unsigned char>(c)); }))
    throw Error("the data path holds a control character");
  request.alpha = field<double>(body, "alpha", 0.5);
  checkRange("the skew (Dirichlet alpha)", request.alpha, 0.01, 100);
  request.sites = field<std::int64_t>(body, "sites", 10);
  checkRange("the number of sites", static_cast<double>(request.sites), 2, kMaxSites);
  request.rounds = field<std::int64_t>(body, "rounds", 20);
  checkRange("the number of rounds", static_cast<double>(request.rounds), 1, kMaxRounds);
  request.seeds = field<std::int64_t>(body, "seeds", 1);
  checkRange("the number of seeds", static_cast<double>(request.seeds), 1, kMaxSeeds);
  request.methods = field<std::vector<std::string>>(body, "methods", {});
  request.balances = field<std::vector<std::string>>(body, "balances", {});
  if (request.methods.empty() && request.balances.empty()) throw Error("choose at least one method to compare");
  if (request.methods.size() > kMaxListLength || request.balances.size() > kMaxListLength)
    throw Error("at most {} methods and {} balance values", kMaxListLength, kMaxListLength);
  for (const std::string& method : request.methods) algorithmEntry(method);  // throws, listing the names
  return request;
}

PilotJobs::PilotJobs(std::string base_config, std::string results_dir, EventLog& events, ControlPoint& controls)
    : base_config_(std::move(base_config)), results_dir_(std::move(results_dir)), events_(events), controls_(controls) {
  loadConfig(base_config_);  // a bad base config fails now, not at the first comparison
}

PilotJobs::~PilotJobs() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(start_mutex_);
      if (run_controls_) run_controls_->stop("dashboard shutdown");
    }
    thread_.join();
  }
  controls_.attach(nullptr);
}

std::vector<std::string> PilotJobs::overridesOf(const std::string& source, const std::string& path, double alpha,
                                                std::int64_t sites) const {
  std::vector<std::string> overrides = {"data.source=" + source, fmt::format("partition.alpha={}", alpha),
                                        fmt::format("partition.num_clients={}", sites), "run.progress=false"};
  // A JSON string is a TOML basic string too, so any path arrives as written.
  if (!path.empty()) overrides.push_back("data.path=" + json(path).dump());
  return overrides;
}

std::string PilotJobs::start(const ComparisonRequest& request, const std::string& who) {
  std::lock_guard lock(start_mutex_);
  if (running_) throw Error("a comparison is already running: wait for it, or stop it first");
  if (thread_.joinable()) thread_.join();

  CompareOptions options;
  options.config_path = base_config_;
  options.overrides = overridesOf(request.data_source, request.data_path, request.alpha, request.sites);
  options.overrides.push_back(fmt::format("run.rounds={}", request.rounds));
  options.variants = sweepVariants({}, request.balances, false, request.methods);
  options.seeds = request.seeds;
  options.output_dir = (fs::path(results_dir_) / request.name).string();
  options.watcher = this;
  for (const Variant& variant : options.variants) {  // every config is checked before the thread starts
    std::vector<std::string> overrides = options.overrides;
    overrides.insert(overrides.end(), variant.overrides.begin(), variant.overrides.end());
    loadConfig(base_config_, overrides);
  }

  running_ = true;
  events_.append({{"type", "comparison_started"}, {"directory", request.name}, {"who", who}});
  thread_ = std::thread([this, options, name = request.name] {
    try {
      const ComparisonOutcome outcome = runComparison(options);
      if (outcome.stopped) {
        events_.append({{"type", "comparison_stopped"}, {"directory", name}});
      } else {
        events_.append({{"type", "comparison_finished"},
                        {"directory", name},
                        {"report", fmt::format("/results/{}/report.html", name)},
                        {"runs_done", outcome.runs_done},
                        {"runs_reused", outcome.runs_reused}});
      }
    } catch (const std::exception& e) {
      spdlog::error("dashboard comparison '{}': {}", name, e.what());
      events_.append({{"type", "comparison_failed"}, {"directory", name}, {"error", e.what()}});
    }
    controls_.attach(nullptr);
    running_ = false;
  });
  return options.output_dir;
}

json PilotJobs::partitionPreview(const std::string& source, const std::string& path, double alpha,
                                 std::int64_t sites) const {
  checkRange("the skew (Dirichlet alpha)", alpha, 0.01, 100);
  checkRange("the number of sites", static_cast<double>(sites), 2, kMaxSites);
  const Config config = loadConfig(base_config_, overridesOf(source, path, alpha, sites));
  // The label counts alone: no client's samples need reading.
  const FederatedDataset data = buildFederatedDataset(config, {[](std::int64_t) { return false; }});
  json histograms = json::array();
  for (const ClientShard& client : data.clients) histograms.push_back(client.train_label_counts);
  return {{"classes", data.num_classes}, {"sites", histograms}};
}

void PilotJobs::comparisonPlanned(const std::string& directory, const std::vector<std::string>& runs) {
  events_.append(
      {{"type", "comparison_planned"}, {"directory", fs::path(directory).filename().string()}, {"runs", runs}});
}

void PilotJobs::runReused(const std::string& run) { events_.append({{"type", "run_reused"}, {"run", run}}); }

RunObserver* PilotJobs::observerFor(const std::string& /*run*/) { return observer_.get(); }

RunControls* PilotJobs::controlsFor(const std::string& run, const Config& config) {
  std::lock_guard lock(start_mutex_);
  controls_.attach(nullptr);
  run_controls_ = std::make_unique<RunControls>(config, RunKind::Simulated);
  observer_ = std::make_unique<RunEvents>(events_, run, changeableSettingsIn(config, *run_controls_));
  controls_.attach(run_controls_.get());
  return run_controls_.get();
}

}  // namespace pagefl::dashboard
