// Helpers shared by the tests: temporary directories and small generated datasets in the
// standard file formats.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace pagefl::testing {

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Writes an MNIST-layout IDX dataset (train-*/t10k-* images and labels, gzipped or raw) of
// 28x28 images whose class is drawn as a bright block at a class-specific place, plus noise:
// learnable in a few steps.
void writeMnistLikeDataset(const std::string& directory, std::int64_t train_count, std::int64_t test_count,
                           bool gzip, std::uint64_t seed = 7);

// Runs a shell command, returning its exit status; its stdout and stderr land in `output`.
int runCommand(const std::string& command, std::string& output);

std::string readFile(const std::string& path);
void writeBytes(const std::string& path, const std::vector<std::uint8_t>& bytes);

// The message of the pagefl::Error that `action` throws, or "" when it throws none.
std::string errorOf(const std::function<void()>& action);

// A finished simulated run: its directory, metrics files as text, and their lines parsed.
struct SimulatedRun {
  std::string directory, rounds_text, clients_text, summary_text;
  std::vector<nlohmann::json> rounds, clients;
};

// Runs the simulator on `config_file` (empty: the defaults) plus `overrides`, writing under `dir`.
SimulatedRun simulate(const TempDir& dir, std::vector<std::string> overrides, const std::string& config_file = "");

// The same setup with run.workers = 1 and with run.workers = 2.
std::pair<SimulatedRun, SimulatedRun> simulateWithOneAndTwoWorkers(const TempDir& dir,
                                                                   const std::vector<std::string>& setup);

}  // namespace pagefl::testing
