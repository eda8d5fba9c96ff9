// Client state beyond RAM: states spilled to disk come back exactly, a simulation with a small
// memory budget equals one with everything in memory, committed spills survive a killed process,
// and a full disk or a damaged file stops with a message naming the file.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

#include "pagefl/core/error.h"
#include "pagefl/fl/client_state.h"
#include "pagefl/fl/state_spill_file.h"
#include "test_support.h"

namespace pagefl {
namespace {

using testing::errorOf;
using testing::TempDir;

// A stateful object as agents are: it saves itself to a stream and loads from one.
struct Counter {
  int value = 0;
  void save(std::ostream& out) const { out << value; }
  void load(std::istream& in) { in >> value; }
};

TEST(ClientStateStore, SpilledStatesComeBackExactly) {
  TempDir dir;
  ClientStateStore store(1, dir.path().string());  // a 1-byte budget: everything not in use spills
  for (std::int64_t c = 0; c < 5; ++c) {
    ClientState& state = store.at(c);
    state.tensor("personal") = torch::randn({64}) + static_cast<double>(c);
    state.object<Counter>("counter", [] { return std::make_unique<Counter>(); }).value = static_cast<int>(10 * c);
  }
  const torch::Tensor third = store.at(3).tensor("personal").clone();
  store.enforceBudget();
  EXPECT_EQ(store.memoryBytes(), 0);
  EXPECT_EQ(store.bytes(), 5 * 64 * 4);  // spilled states still count as the clients' state
  EXPECT_EQ(store.size(), 5);
  ClientState& back = store.at(3);
  EXPECT_TRUE(back.tensor("personal").equal(third));
  EXPECT_EQ(back.object<Counter>("counter", [] { return std::make_unique<Counter>(); }).value, 30);
  EXPECT_EQ(store.memoryBytes(), 64 * 4);
}

TEST(ClientStateStore, DittoWithASmallMemoryBudgetEqualsTheRunInMemory) {
  TempDir dir;
  std::vector<std::string> setup = {"data.source=synthetic", "partition.scheme=natural", "synthetic.num_clients=12",
                                    "synthetic.samples_per_client=60", "model.name=mlp", "model.hidden=[512]",
                                    "algorithm.name=ditto", "run.rounds=3", "algorithm.participation=0.75"};
  const auto in_memory = testing::simulate(dir, setup);
  setup.push_back("run.state_memory_mb=1");  // 12 personal models of 124 KB: about a third spill
  setup.push_back(fmt::format("run.spill_dir=\"{}\"", dir.file("spill")));
  const auto spilled = testing::simulate(dir, setup);
  EXPECT_EQ(in_memory.rounds_text, spilled.rounds_text);
  EXPECT_EQ(in_memory.clients_text, spilled.clients_text);
  // States did go to disk: after the last round less than all of them was in memory.
  std::string line, last;
  for (std::ifstream timing(spilled.directory + "/timing.jsonl"); std::getline(timing, line);) last = line;
  const auto round = nlohmann::json::parse(last);
  EXPECT_LE(round["client_state_in_memory_mb"].get<double>(), 1.05);
  EXPECT_GT(round["client_state_mb"].get<double>(), 1.05);
  // The spill file is scratch space, removed with the run.
  EXPECT_TRUE(std::filesystem::is_empty(dir.file("spill")));
}

// Runs `child` in a forked process and returns its exit status (its own checks decide it).
int inChild(const std::function<int()>& child) {
  const pid_t pid = fork();
  if (pid == 0) _exit(child());
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(StateSpillFile, CommittedStatesSurviveAKilledProcess) {
  TempDir dir;
  const std::string path_file = dir.file("path");
  const int status = inChild([&] {
    StateSpillFile spill(dir.file("spill"), true);
    spill.put(7, std::string(100000, 'x'));
    spill.put(8, "eight");
    std::ofstream(path_file) << spill.path();
    raise(SIGKILL);  // no destructor, no close
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(status));
  std::string path;
  std::ifstream(path_file) >> path;
  StateSpillFile reopened = StateSpillFile::reopen(path);
  EXPECT_EQ(reopened.get(7), std::string(100000, 'x'));
  EXPECT_EQ(reopened.get(8), std::string("eight"));
  EXPECT_FALSE(reopened.get(9).has_value());
}

TEST(StateSpillFile, AFullDiskIsAClearError) {
  TempDir dir;
  // A file-size limit makes the disk "full" for this process alone.
  const int status = inChild([&] {
    signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{64 * 1024, 64 * 1024};
    setrlimit(RLIMIT_FSIZE, &limit);
    try {
      StateSpillFile spill(dir.file("spill"));
      for (int c = 0; c < 100; ++c) spill.put(c, std::string(16 * 1024, 'y'));
    } catch (const Error& error) {
      const std::string message = error.what();
      return message.find("spill file") != std::string::npos && message.find("run.spill_dir") != std::string::npos ? 0 : 3;
    }
    return 4;  // no error at all
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(StateSpillFile, ADamagedFileOrAnUnusableDirectoryIsAClearError) {
  TempDir dir;
  std::string path;
  {
    StateSpillFile spill(dir.file("spill"), true);
    spill.put(1, "state");
    path = spill.path();
  }
  for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(path + suffix);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << std::string(8192, '\x5a');
  const std::string damaged = errorOf([&] { StateSpillFile::reopen(path).get(1); });
  EXPECT_NE(damaged.find(path), std::string::npos) << damaged;
  std::ofstream(dir.file("a-file")) << "not a directory";
  const std::string unusable = errorOf([&] { StateSpillFile spill(dir.file("a-file")); });
  EXPECT_NE(unusable.find("run.spill_dir"), std::string::npos) << unusable;
}

}  // namespace
}  // namespace pagefl
