#include "test_support.h"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <sys/wait.h>

#include "pagefl/core/config.h"
#include "pagefl/core/error.h"
#include "pagefl/data/federated_dataset.h"
#include "pagefl/data/idx_reader.h"
#include "pagefl/report/run_recorder.h"
#include "pagefl/sim/simulator.h"

namespace pagefl::testing {

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          ("pagefl-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

namespace {

void writeSplit(const std::string& directory, const std::string& prefix, std::int64_t count, bool gzip,
                std::mt19937_64& rng) {
  IdxArray images{{count, 28, 28}, std::vector<std::uint8_t>(static_cast<std::size_t>(count * 28 * 28))};
  IdxArray labels{{count}, std::vector<std::uint8_t>(static_cast<std::size_t>(count))};
  std::uniform_int_distribution<int> noise(0, 60);
  for (std::int64_t i = 0; i < count; ++i) {
    const int label = static_cast<int>(i % 10);
    labels.values[i] = static_cast<std::uint8_t>(label);
    std::uint8_t* image = images.values.data() + i * 28 * 28;
    for (int p = 0; p < 28 * 28; ++p) image[p] = static_cast<std::uint8_t>(noise(rng));
    const int row = 2 + (label / 5) * 12, col = 2 + (label % 5) * 5;
    for (int r = row; r < row + 10; ++r)
      for (int c = col; c < col + 4; ++c) image[r * 28 + c] = 255;
  }
  const std::string suffix = gzip ? ".gz" : "";
  writeIdx(directory + "/" + prefix + "-images-idx3-ubyte" + suffix, images, gzip);
  writeIdx(directory + "/" + prefix + "-labels-idx1-ubyte" + suffix, labels, gzip);
}

}  // namespace

void writeMnistLikeDataset(const std::string& directory, std::int64_t train_count, std::int64_t test_count,
                           bool gzip, std::uint64_t seed) {
  std::filesystem::create_directories(directory);
  std::mt19937_64 rng(seed);
  writeSplit(directory, "train", train_count, gzip, rng);
  writeSplit(directory, "t10k", test_count, gzip, rng);
}

int runCommand(const std::string& command, std::string& output) {
  output.clear();
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buffer;
  while (std::fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void writeBytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::string errorOf(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

namespace {

std::vector<nlohmann::json> parseLines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

}  // namespace

SimulatedRun simulate(const TempDir& dir, std::vector<std::string> overrides, const std::string& config_file) {
  overrides.push_back(fmt::format("run.output_dir=\"{}\"", dir.file("runs")));
  overrides.push_back("run.progress=false");
  Config config = loadConfig(config_file, overrides);
  FederatedDataset data = buildFederatedDataset(config);
  RunRecorder recorder(config);
  Simulator(config, data).run({&recorder});
  SimulatedRun run;
  run.directory = recorder.directory();
  run.rounds_text = readFile(run.directory + "/rounds.jsonl");
  run.clients_text = readFile(run.directory + "/clients.jsonl");
  run.summary_text = readFile(run.directory + "/summary.json");
  run.rounds = parseLines(run.rounds_text);
  run.clients = parseLines(run.clients_text);
  return run;
}

std::pair<SimulatedRun, SimulatedRun> simulateWithOneAndTwoWorkers(const TempDir& dir,
                                                                   const std::vector<std::string>& setup) {
  auto one = setup, two = setup;
  one.push_back("run.workers=1");
  two.push_back("run.workers=2");
  return {simulate(dir, one), simulate(dir, two)};
}

}  // namespace pagefl::testing
