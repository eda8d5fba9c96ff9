// The dashboard's web server, inside the pagefl process (`pagefl dashboard`, `pagefl server
// --dashboard`). It serves the bundled page, the run's events as a server-sent event stream, the
// pilot's comparisons and results, a deployment's audit log, and the controls.
//
// Security: it listens on 127.0.0.1 unless told otherwise; any other address needs HTTPS (the
// deployment's certificates) and an access file (access.h). Every request is authenticated
// (client certificate, session cookie from /api/login, or an "Authorization: Bearer" token) and
// every state-changing request needs the operator role and the dashboard's own Origin. Files are
// served only from the bundle and, read only, from the results directory.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "pagefl/dashboard/access.h"
#include "pagefl/dashboard/control_point.h"
#include "pagefl/dashboard/event_log.h"
#include "pagefl/dashboard/pilot_jobs.h"

namespace httplib {
class Server;
}

namespace pagefl::dashboard {

struct DashboardOptions {
  std::string listen = "127.0.0.1:8050";  // host:port; port 0 takes a free one
  std::string access_file;                // empty: no authentication, loopback only
  std::string tls_cert, tls_key;          // HTTPS; required off loopback
  std::string client_ca;                  // also require client certificates signed by this CA
};

// What this process offers the page; a part it lacks is null or empty.
struct DashboardParts {
  EventLog* events = nullptr;        // required
  ControlPoint* controls = nullptr;  // required
  PilotJobs* pilot = nullptr;        // `pagefl dashboard`: comparisons and the results directory
  std::string results_dir;           // finished runs to browse (a deployment: its run directory's parent)
  std::string audit_path;            // a deployment's audit.sqlite
  nlohmann::json deployment;         // a deployment's fixed facts: {"sites": [...], "run", "client_timeout_s"}
};

class DashboardServer {
 public:
  // Throws pagefl::Error naming what to fix: a bad address, a non-loopback address without TLS or
  // without an access file, an unreadable certificate or access file.
  DashboardServer(DashboardOptions options, DashboardParts parts);
  ~DashboardServer();
  DashboardServer(const DashboardServer&) = delete;
  DashboardServer& operator=(const DashboardServer&) = delete;

  // Binds and serves on a thread of its own; returns the address to open ("http://127.0.0.1:8050").
  std::string start();
  void stop();

 private:
  void routes();

  DashboardOptions options_;
  DashboardParts parts_;
  AccessPolicy access_;
  bool tls_ = false;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<int> streams_ = 0;
};

}  // namespace pagefl::dashboard
