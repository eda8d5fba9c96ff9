// Helpers for the deployment tests: child processes of the pagefl binary with their output in
// a log file, and a small federation (config, per-site LEAF data, the matching simulated run).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "test_support.h"

namespace pagefl::testing {

// A running `pagefl ...` whose stdout and stderr go to `log`. Killed (SIGKILL) on destruction.
class Process {
 public:
  Process(const std::vector<std::string>& args, std::string log, const std::vector<std::string>& env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void signal(int signal) const;
  // The exit code, or -1 when it is still running after `timeout` (it is then killed).
  int wait(std::chrono::seconds timeout);
  std::string output() const { return readFile(log_); }
  // Waits until the log contains `text`; false after `timeout`.
  bool waitForOutput(const std::string& text, std::chrono::seconds timeout) const;

 private:
  pid_t pid_ = -1;
  std::string log_;
  bool reaped_ = false;
};

// Waits until `path` holds a line that contains `text`; false after `timeout`.
bool waitForFileText(const std::string& path, const std::string& text, std::chrono::seconds timeout);

// A free TCP port on 127.0.0.1.
int freePort();

// `sites` synthetic sites with logistic regression: config.toml (plaintext, min_clients = sites;
// extra lines land in its [deploy] section unless they open another), every site's data as LEAF
// JSON in leaf/, and the names client_0, client_1, ...
struct Federation {
  std::string config, leaf, address, runs;
  std::vector<std::string> sites;
};
Federation makeFederation(const TempDir& dir, const std::vector<std::string>& extra_toml_lines = {}, int sites = 4);

// `pagefl server` and one `pagefl client` per site, plaintext.
std::vector<std::string> serverArgs(const Federation& federation, const std::vector<std::string>& overrides = {});
std::vector<std::string> clientArgs(const Federation& federation, const TempDir& dir, const std::string& site);
// A site's arguments with the drill that makes it hang before sending, from `round` on.
std::vector<std::string> stallingAt(std::vector<std::string> site_args, int round);

// Rows of a query on the audit log, each row's columns joined by '|'.
std::vector<std::string> auditRows(const std::string& path, const std::string& sql);

}  // namespace pagefl::testing
