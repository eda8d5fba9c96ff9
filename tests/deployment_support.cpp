#include "deployment_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <fmt/ranges.h>

#include <fstream>
#include <thread>

#include "pagefl/core/config.h"
#include "pagefl/data/federated_dataset.h"

namespace pagefl::testing {

Process::Process(const std::vector<std::string>& args, std::string log, const std::vector<std::string>& env)
    : log_(std::move(log)) {
  pid_ = fork();
  if (pid_ == 0) {
    const int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    for (const std::string& assignment : env) putenv(const_cast<char*>(assignment.c_str()));
    std::vector<char*> argv;
    std::string binary = PAGEFL_BINARY;
    argv.push_back(binary.data());
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
}

Process::~Process() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void Process::signal(int signal) const { kill(pid_, signal); }

int Process::wait(std::chrono::seconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  do {  // at least once, so that a zero timeout polls
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < until);
  return -1;
}

bool Process::waitForOutput(const std::string& text, std::chrono::seconds timeout) const {
  return waitForFileText(log_, text, timeout);
}

bool waitForFileText(const std::string& path, const std::string& text, std::chrono::seconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);)
      if (line.find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int freePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

Federation makeFederation(const TempDir& dir, const std::vector<std::string>& extra_toml_lines, int sites) {
  Federation federation;
  federation.address = fmt::format("127.0.0.1:{}", freePort());
  federation.runs = dir.file("runs");
  federation.leaf = dir.file("leaf");
  federation.config = dir.file("federation.toml");
  for (int s = 0; s < sites; ++s) federation.sites.push_back(fmt::format("client_{}", s));
  std::string toml = fmt::format(R"([run]
name = "deployed"
seed = 5
rounds = 4
progress = false
output_dir = "{}"
[data]
source = "synthetic"
[synthetic]
num_clients = {}
dimension = 10
classes = 5
samples_per_client = 100
[partition]
scheme = "natural"
[model]
name = "logreg"
[train]
lr = 0.05
epochs = 1
batch_size = 10
[algorithm]
name = "fedavg"
[deploy]
listen = "{}"
tls = false
min_clients = {}
round_deadline_s = 20
clients = ["{}"]
)",
                                 federation.runs, sites, federation.address, sites,
                                 fmt::join(federation.sites, "\", \""));
  for (const std::string& line : extra_toml_lines) toml += line + "\n";
  std::ofstream(federation.config) << toml;
  exportLeaf(buildFederatedDataset(loadConfig(federation.config)), federation.leaf);
  return federation;
}

std::vector<std::string> serverArgs(const Federation& federation, const std::vector<std::string>& overrides) {
  std::vector<std::string> args = {"server", "--config", federation.config};
  args.insert(args.end(), overrides.begin(), overrides.end());
  return args;
}

std::vector<std::string> clientArgs(const Federation& federation, const TempDir& dir, const std::string& site) {
  return {"client", "--server", federation.address, "--id", site, "--data", federation.leaf,
          "--state", dir.file("state-" + site), "--insecure", "--give-up-after", "60"};
}

std::vector<std::string> stallingAt(std::vector<std::string> site_args, int round) {
  site_args.insert(site_args.end(), {"--stall-at-round", std::to_string(round)});
  return site_args;
}

// Rows of a query on the audit log, each row's columns joined by '|'.
std::vector<std::string> auditRows(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::vector<std::string> rows;
  while (sqlite3_step(statement) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(statement); ++i) {
      const unsigned char* text = sqlite3_column_text(statement, i);
      row += (i ? "|" : "") + std::string(text ? reinterpret_cast<const char*>(text) : "");
    }
    rows.push_back(row);
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return rows;
}

}  // namespace pagefl::testing
