// Helpers shared by the tests: temporary directories and small generated datasets in the
// standard file formats.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

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

}  // namespace pagefl::testing
