// The pilot from the dashboard: comparisons started from the page, run one at a time on a thread
// of their own with `pagefl compare`'s machinery (pilot/compare.h), each run reporting to the event
// log and steered through the control point. Also the partition preview the page redraws as the
// skew slider moves.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "pagefl/dashboard/control_point.h"
#include "pagefl/dashboard/event_log.h"
#include "pagefl/pilot/compare.h"

namespace pagefl::dashboard {

// What the page asks for. Everything else comes from the dashboard's base config.
struct ComparisonRequest {
  std::string name;         // the comparison's directory under the results directory
  std::string data_source;  // a data.source choice ("fashion-mnist": the built-in data)
  std::string data_path;    // empty: the source's default location
  double alpha = 0.5;       // Dirichlet label skew: small is skewed, large is nearly IID
  std::int64_t sites = 10;
  std::vector<std::string> methods;   // registered algorithm names
  std::vector<std::string> balances;  // PAGE at each page.balance ("0.25"): a sweep; empty: none
  std::int64_t rounds = 20;
  std::int64_t seeds = 1;
};

// Throws pagefl::Error naming the field to fix (its allowed range or choices).
ComparisonRequest parseComparisonRequest(const nlohmann::json& body);

// The data.source choices the config schema declares, for the page's data menu.
std::vector<std::string> dataSources();

class PilotJobs final : private ComparisonWatcher {
 public:
  // `base_config`: the TOML every comparison starts from (empty: the defaults).
  PilotJobs(std::string base_config, std::string results_dir, EventLog& events, ControlPoint& controls);
  // Stops the comparison in progress (its current run checkpoints nothing: a simulated run's
  // finished runs are kept and reused) and waits for it.
  ~PilotJobs() override;

  // Starts `request` and returns its directory. Throws pagefl::Error when one is running, or when
  // the request's config is invalid (checked before anything runs).
  std::string start(const ComparisonRequest& request, const std::string& who);
  bool running() const { return running_; }

  // Each site's training label counts for this data and skew: {"classes": C, "sites": [[...], ...]}.
  nlohmann::json partitionPreview(const std::string& source, const std::string& path, double alpha,
                                  std::int64_t sites) const;

  const std::string& resultsDirectory() const { return results_dir_; }

 private:
  std::vector<std::string> overridesOf(const std::string& source, const std::string& path, double alpha,
                                       std::int64_t sites) const;
  void comparisonPlanned(const std::string& directory, const std::vector<std::string>& runs) override;
  void runReused(const std::string& run) override;
  RunObserver* observerFor(const std::string& run) override;
  RunControls* controlsFor(const std::string& run, const Config& config) override;

  std::string base_config_, results_dir_;
  EventLog& events_;
  ControlPoint& controls_;
  std::atomic<bool> running_ = false;
  std::mutex start_mutex_;
  std::thread thread_;
  // The current run's; kept until the next run replaces them (the simulator holds them meanwhile).
  std::unique_ptr<RunObserver> observer_;
  std::unique_ptr<RunControls> run_controls_;
};

}  // namespace pagefl::dashboard
