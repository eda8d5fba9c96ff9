#include "dashboard_commands.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "pagefl/core/config.h"
#include "pagefl/core/runtime.h"
#include "pagefl/dashboard/run_events.h"
#include "pagefl/net/shutdown_signals.h"

namespace pagefl {

namespace fs = std::filesystem;

namespace {

void announce(const std::string& url) {
  fmt::print("dashboard: {}  (Ctrl-C stops)\n", url);
  std::fflush(stdout);  // a script that starts pagefl reads the address from here
}

}  // namespace

int serveDashboard(const dashboard::DashboardOptions& options, const std::string& base_config,
                   const std::string& results_dir) {
  configureSingleThreadedKernels();
  dashboard::EventLog events;
  dashboard::ControlPoint controls;
  dashboard::PilotJobs pilot(base_config, results_dir, events, controls);
  dashboard::DashboardParts parts;
  parts.events = &events;
  parts.controls = &controls;
  parts.pilot = &pilot;
  parts.results_dir = results_dir;
  dashboard::DashboardServer server(options, parts);
  net::ShutdownSignals signals;
  announce(server.start());
  // The page does the work; this thread only waits for the signal that ends the process.
  while (!signals.stop) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  fmt::print("dashboard: stopping\n");
  server.stop();
  return 0;
}

int serveDeploymentWithDashboard(net::ServerOptions server_options, const dashboard::DashboardOptions& options) {
  const Config config = loadConfig(server_options.config_path, server_options.overrides);
  const std::string run_dir = net::runDirectory(config);
  dashboard::EventLog events;
  dashboard::ControlPoint control_point;
  const RunControls initial(config, RunKind::Deployed);
  dashboard::RunEvents observer(events, config.run.name, dashboard::changeableSettingsIn(config, initial));
  server_options.observers.push_back(&observer);
  server_options.on_controls = [&control_point](RunControls& controls) { control_point.attach(&controls); };

  dashboard::DashboardParts parts;
  parts.events = &events;
  parts.controls = &control_point;
  parts.results_dir = fs::path(run_dir).parent_path().string();
  parts.audit_path = (fs::path(run_dir) / "audit.sqlite").string();
  parts.deployment = {{"sites", config.deploy.clients},
                      {"run", fs::path(run_dir).filename().string()},
                      {"client_timeout_s", config.deploy.client_timeout_s}};
  dashboard::DashboardServer server(options, parts);
  announce(server.start());
  const int code = net::runServer(server_options);
  control_point.attach(nullptr);  // the run's controls die with it
  server.stop();
  return code;
}

}  // namespace pagefl
