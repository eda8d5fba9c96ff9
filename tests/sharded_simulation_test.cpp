// One simulation sharded over MPI ranks (mpirun -np K pagefl run ...) against the same run in one
// process: byte-identical metrics files, for any rank and worker count; a lost rank ends the job.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "test_support.h"

namespace pagefl {
namespace {

using testing::TempDir;

const std::string kPagefl = PAGEFL_BINARY;
// As root (CI containers) Open MPI wants consent; --oversubscribe lets 3 ranks share 2 cores.
const std::string kMpirun = "mpirun --allow-run-as-root --oversubscribe --bind-to none";

// 40 clients: aggregation blocks 0-2 (16 clients each), so 2 and 3 ranks each own some.
std::string setupOf(const std::string& algorithm) {
  return "data.source=synthetic partition.scheme=natural synthetic.num_clients=40 synthetic.samples_per_client=60 "
         "model.name=logreg train.lr=0.05 train.batch_size=8 run.rounds=4 algorithm.participation=0.7 "
         "eval.personal_on_server=true page.warmup_rounds=2 run.progress=false algorithm.name=" +
         algorithm;
}

struct RunFiles {
  int status = -1;
  std::string output, directory, rounds, clients;
};

RunFiles runPagefl(const TempDir& dir, const std::string& launcher, const std::string& setup, const std::string& name) {
  std::ofstream(dir.file("empty.toml")) << "";
  RunFiles run;
  run.status = testing::runCommand(launcher + " " + kPagefl + " run -c " + dir.file("empty.toml") + " " + setup +
                                       " run.name=" + name + " run.output_dir=" + dir.file("runs"),
                                   run.output);
  const auto at = run.output.find("run directory: ");
  if (at != std::string::npos) {
    run.directory = run.output.substr(at + 15, run.output.find('\n', at) - at - 15);
    run.rounds = testing::readFile(run.directory + "/rounds.jsonl");
    run.clients = testing::readFile(run.directory + "/clients.jsonl");
  }
  return run;
}

class ShardedSimulation : public ::testing::TestWithParam<std::string> {};

TEST_P(ShardedSimulation, TwoAndThreeRanksWriteTheSingleProcessMetricsByteForByte) {
  TempDir dir;
  const std::string setup = setupOf(GetParam());
  const RunFiles alone = runPagefl(dir, "", setup + " run.workers=2", "alone");
  ASSERT_EQ(alone.status, 0) << alone.output;
  ASSERT_FALSE(alone.rounds.empty());
  const RunFiles two = runPagefl(dir, kMpirun + " -np 2", setup + " run.workers=1", "two");
  ASSERT_EQ(two.status, 0) << two.output;
  const RunFiles three = runPagefl(dir, kMpirun + " -np 3", setup + " run.workers=1", "three");
  ASSERT_EQ(three.status, 0) << three.output;
  EXPECT_EQ(two.rounds, alone.rounds);
  EXPECT_EQ(two.clients, alone.clients);
  EXPECT_EQ(three.rounds, alone.rounds);
  EXPECT_EQ(three.clients, alone.clients);
  // Only the server rank writes: one run directory per launch, with every participant's model.
  EXPECT_TRUE(std::filesystem::exists(three.directory + "/summary.json"));
  EXPECT_TRUE(std::filesystem::exists(three.directory + "/models/global.safetensors"));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, ShardedSimulation, ::testing::Values("fedavg", "ditto", "page"));

// Image files: each rank reads the samples of its own clients (the server rank also those held
// out as new sites), here over TCP from a hostfile, as ranks on different hosts would talk.
TEST(ShardedSimulation, RanksReadOnlyTheirClientsImagesAndStillMatchOneProcessOverTcp) {
  TempDir dir;
  testing::writeMnistLikeDataset(dir.file("mnist"), 1200, 100, /*gzip=*/true);
  std::ofstream(dir.file("hosts")) << "localhost slots=4\n";
  const std::string setup = "data.source=mnist data.path=" + dir.file("mnist") +
                            " partition.num_clients=40 partition.scheme=dirichlet partition.alpha=0.5 model.name=mlp "
                            "model.hidden=[16] train.batch_size=16 run.rounds=3 algorithm.participation=0.5 "
                            "eval.new_clients=0.1 run.progress=false algorithm.name=fedavg";
  const RunFiles alone = runPagefl(dir, "", setup + " run.workers=2", "alone");
  ASSERT_EQ(alone.status, 0) << alone.output;
  const RunFiles two =
      runPagefl(dir, kMpirun + " --hostfile " + dir.file("hosts") + " --mca pml ob1 --mca btl tcp,self -np 2",
                setup + " run.workers=1", "two");
  ASSERT_EQ(two.status, 0) << two.output;
  EXPECT_EQ(two.rounds, alone.rounds);
  EXPECT_EQ(two.clients, alone.clients);
  EXPECT_NE(alone.output.find("1200 local samples,"), std::string::npos) << alone.output;
  // Rank 0 owns blocks 0 and 2 (clients 0-15 and 32-39) and reads the held-out sites too; rank 1
  // owns block 1 (clients 16-31): neither reads all 1200 samples.
  for (const std::string& line : {std::string("local samples read by this rank"), std::string("rank 1: ")}) {
    const auto at = two.output.find(line);
    ASSERT_NE(at, std::string::npos) << two.output;
    const std::string before = two.output.substr(0, at);
    const std::string count =
        line.rfind("rank", 0) == 0 ? two.output.substr(at + line.size(), 6) : before.substr(before.rfind(", ") + 2);
    EXPECT_LT(std::stoll(count), 1200) << line << ": " << count;
    EXPECT_GT(std::stoll(count), 0) << line << ": " << count;
  }
}

TEST(ShardedSimulation, AKilledRankEndsTheJobWithAMessageAndNoFinishedRunDirectory) {
  TempDir dir;
  const auto started = std::chrono::steady_clock::now();
  const RunFiles run = runPagefl(dir, "PAGEFL_TEST_KILL_RANK=1:2 " + kMpirun + " -x PAGEFL_TEST_KILL_RANK -np 2",
                                 setupOf("fedavg"), "killed");
  EXPECT_NE(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("rank 1"), std::string::npos) << run.output;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::minutes(5));  // generous: no hang
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.file("runs")))
    EXPECT_NE(entry.path().filename(), "summary.json") << "a killed run must not look finished";
}

TEST(ShardedSimulation, AnAlgorithmThatNeedsTheUploadsThemselvesIsRefusedClearly) {
  TempDir dir;
  const RunFiles run = runPagefl(dir, kMpirun + " -np 2", setupOf("scaffold"), "refused");
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("scaffold under mpirun"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace pagefl
