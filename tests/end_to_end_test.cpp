// End-to-end checks through the pagefl program itself: real data, exit codes, messages.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace pagefl {
namespace {

using testing::TempDir;

const std::string kPagefl = PAGEFL_BINARY;

std::string runDirOf(const std::string& output) {
  auto at = output.find("run directory: ");
  if (at == std::string::npos) return "";
  auto end = output.find('\n', at);
  return output.substr(at + 15, end - at - 15);
}

// The budget: the FL CNN, 10 clients, Dirichlet(0.5), FedAvg, 10 rounds of 1 local epoch
// (SGD, lr 0.02, momentum 0.9) on a 20,000-image subset of Fashion-MNIST (14,000 train), scored
// on 2,000 official test images. About 45 s on 2 cores; seeds 1-3 reach 80-83%.
TEST(EndToEnd, FedAvgCnnReaches80PercentOnFashionMnistWithinASmallBudget) {
  ASSERT_TRUE(std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
      << "Fashion-MNIST is missing: run scripts/setup.sh (package dataset-fashion-mnist)";
  TempDir dir;
  std::string output;
  int status = testing::runCommand(
      kPagefl + " run -c " PAGEFL_SOURCE_DIR "/configs/fmnist-fedavg.toml run.workers=2 run.rounds=10 "
                "partition.num_clients=10 partition.alpha=0.5 data.train_subset=20000 data.test_subset=2000 "
                "eval.every=5 run.progress=false run.output_dir=" +
          dir.file("runs"),
      output);
  ASSERT_EQ(status, 0) << output;
  auto summary = nlohmann::json::parse(testing::readFile(runDirOf(output) + "/summary.json"));
  EXPECT_GE(summary["streams"]["g2s_acc"]["final"].get<double>(), 0.80) << output;
}

TEST(EndToEnd, BadInputGivesAClearMessageAndANonZeroExit) {
  TempDir dir;
  std::string output;
  std::ofstream(dir.file("bad.toml")) << "[train]\nlr = -1\n";
  EXPECT_EQ(testing::runCommand(kPagefl + " run -c " + dir.file("bad.toml"), output), 2);
  EXPECT_NE(output.find("train.lr = -1 is out of range"), std::string::npos) << output;

  std::ofstream(dir.file("typo.toml")) << "[partition]\nnum_client = 3\n";
  EXPECT_EQ(testing::runCommand(kPagefl + " run -c " + dir.file("typo.toml"), output), 2);
  EXPECT_NE(output.find("did you mean 'partition.num_clients'"), std::string::npos) << output;

  std::ofstream(dir.file("ok.toml")) << "[data]\nsource = \"mnist\"\npath = \"" << dir.file("nowhere") << "\"\n";
  EXPECT_EQ(testing::runCommand(kPagefl + " run -c " + dir.file("ok.toml"), output), 2);
  EXPECT_NE(output.find("missing data file"), std::string::npos) << output;

  testing::writeMnistLikeDataset(dir.file("mnist"), 100, 20, true);
  std::filesystem::resize_file(dir.file("mnist/train-images-idx3-ubyte.gz"), 300);
  std::ofstream(dir.file("corrupt.toml")) << "[data]\nsource = \"mnist\"\npath = \"" << dir.file("mnist") << "\"\n";
  EXPECT_EQ(testing::runCommand(kPagefl + " run -c " + dir.file("corrupt.toml"), output), 2);
  EXPECT_NE(output.find("train-images-idx3-ubyte.gz"), std::string::npos) << output;

  EXPECT_NE(testing::runCommand(kPagefl + " run -c " + dir.file("absent.toml"), output), 0);
  EXPECT_NE(testing::runCommand(kPagefl + " run -c " + dir.file("ok.toml") + " nonsense", output), 0);
  EXPECT_NE(output.find("key=value"), std::string::npos) << output;
}

TEST(EndToEnd, PartitionPrintsAReportAndExportsLeafJson) {
  TempDir dir;
  testing::writeMnistLikeDataset(dir.file("mnist"), 200, 20, false);
  std::ofstream(dir.file("p.toml")) << "[data]\nsource = \"mnist\"\npath = \"" << dir.file("mnist")
                                    << "\"\n[partition]\nnum_clients = 4\nmin_size = 5\n";
  std::string output;
  ASSERT_EQ(testing::runCommand(kPagefl + " partition -c " + dir.file("p.toml") + " --export-leaf " + dir.file("leaf"),
                                output),
            0)
      << output;
  EXPECT_NE(output.find("4 clients, 10 classes, 200 local samples, 20 server test samples"), std::string::npos)
      << output;
  EXPECT_NE(output.find("client_3"), std::string::npos);
  for (const char* file : {"train.json", "test.json", "server_test.json"})
    EXPECT_TRUE(std::filesystem::exists(dir.file(std::string("leaf/") + file))) << file;
}

}  // namespace
}  // namespace pagefl
