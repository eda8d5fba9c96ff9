// `pagefl dashboard` (the pilot from a web page) and `pagefl server --dashboard` (a deployment
// watched and steered from one): the same page, served by this process.
#pragma once

#include <string>

#include "pagefl/dashboard/dashboard_server.h"
#include "pagefl/net/federation_server.h"

namespace pagefl {

// Serves until SIGINT or SIGTERM. `base_config`: the TOML every comparison from the page starts
// from; `results_dir`: where comparisons are written and finished ones are browsed.
int serveDashboard(const dashboard::DashboardOptions& options, const std::string& base_config,
                   const std::string& results_dir);

// Runs the deployed server with the dashboard beside it; the page goes away with the run.
int serveDeploymentWithDashboard(net::ServerOptions server_options, const dashboard::DashboardOptions& options);

}  // namespace pagefl
