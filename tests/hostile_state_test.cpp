// The deployment's defences against damaged files and hostile timing, tested without processes:
// sealed state files, checkpoints validated on load, an audit log that notices its own
// disappearance, and bounded upload buffers (the coordinator's cases: round_coordinator_test.cpp).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "pagefl/core/error.h"
#include "pagefl/core/sealed_file.h"
#include "pagefl/fl/state_archive.h"
#include "pagefl/net/audit_log.h"
#include "pagefl/net/server_checkpoint.h"
#include "pagefl/net/upload_budget.h"
#include "pagefl/rl/replay_buffer.h"
#include "test_support.h"

namespace pagefl::net {
namespace {

using testing::errorOf;
using testing::readFile;
using testing::TempDir;
namespace fs = std::filesystem;

void overwriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

void flipByte(const std::string& path, std::size_t from_end) {
  std::string bytes = readFile(path);
  bytes[bytes.size() - from_end] ^= 0x10;
  overwriteFile(path, bytes);
}

TEST(SealedFile, RoundTripsAndRefusesAnyDamage) {
  TempDir dir;
  const std::string path = dir.file("state.pt");
  writeSealedFile(path, "the payload");
  EXPECT_EQ(readSealedFile(path, "the state"), "the payload");

  flipByte(path, 3);
  EXPECT_NE(errorOf([&] { readSealedFile(path, "the state"); }).find("is damaged"), std::string::npos);
  overwriteFile(path, readFile(path).substr(0, 40));
  EXPECT_NE(errorOf([&] { readSealedFile(path, "the state"); }).find("not a sealed"), std::string::npos);
  overwriteFile(path, "unsealed bytes of an older pagefl");
  EXPECT_NE(errorOf([&] { readSealedFile(path, "the state"); }).find("not a sealed"), std::string::npos);
  EXPECT_NE(errorOf([&] { readSealedFile(dir.path().string(), "the state"); }).find("is a directory"),
            std::string::npos);
}

ServerCheckpoint checkpointAt(std::int64_t round, torch::Tensor global) {
  return {round, {{"global", std::move(global)}}, "config", {{"site-a", true, 10, 5, {}}}};
}

TEST(ServerCheckpoint, DamagedOrImpossibleCheckpointsAreRefused) {
  TempDir dir;
  const std::string path = dir.file("checkpoint.pt");
  saveCheckpoint(path, checkpointAt(3, torch::ones({4})));
  const ServerCheckpoint loaded = loadCheckpoint(path, 10, 4);
  EXPECT_EQ(loaded.round, 3);
  EXPECT_TRUE(loaded.server_state.at("global").equal(torch::ones({4})));
  ASSERT_EQ(loaded.sites.size(), 1u);
  EXPECT_EQ(loaded.sites[0].train_size, 10);

  // A flipped bit anywhere: a weight's exponent, the round, an agent's bytes.
  for (std::size_t from_end : {1, 100, 400}) {
    saveCheckpoint(path, checkpointAt(3, torch::ones({4})));
    flipByte(path, from_end);
    EXPECT_NE(errorOf([&] { loadCheckpoint(path, 10, 4); }).find("damaged"), std::string::npos) << from_end;
  }
  // Contents no run of this config could have written, sealed as if they were sound.
  for (std::int64_t round : {-1, 11}) {
    saveCheckpoint(path, checkpointAt(round, torch::ones({4})));
    EXPECT_NE(errorOf([&] { loadCheckpoint(path, 10, 4); }).find("outside this run's 0..10"), std::string::npos);
  }
  saveCheckpoint(path, checkpointAt(3, torch::ones({5})));
  EXPECT_NE(errorOf([&] { loadCheckpoint(path, 10, 4); }).find("5 values but the config's model has 4"),
            std::string::npos);
  saveCheckpoint(path, checkpointAt(3, torch::tensor({1.0f, NAN, 1.0f, 1.0f})));
  EXPECT_NE(errorOf([&] { loadCheckpoint(path, 10, 4); }).find("NaN or Inf in 'global'"), std::string::npos);
}

constexpr std::chrono::milliseconds kPatient{5000};

TEST(AuditLog, NoticesItsDeletionAndRefusesToWriteIntoTheVoid) {
  TempDir dir;
  const std::string path = dir.file("audit.sqlite");
  AuditLog audit(path, false, kPatient);
  audit.recordEvent("start", "");
  audit.recordModel(1, "aggregated", "abc", 3);
  EXPECT_EQ(audit.aggregatedModel(1), "abc");
  EXPECT_EQ(audit.aggregatedModel(2), std::nullopt);
  EXPECT_FALSE(audit.failed());

  fs::remove(path);
  EXPECT_NE(errorOf([&] { audit.recordEvent("join", "site-a"); }).find("was deleted"), std::string::npos);
  ASSERT_TRUE(audit.failed());
  EXPECT_NE(audit.failure()->find("was deleted"), std::string::npos);
  // Once failed, every later write fails too, even if a file appears again at the path.
  AuditLog replacement(path, false, kPatient);
  EXPECT_THROW(audit.recordEvent("join", "site-b"), Error);
}

TEST(AuditLog, AMissingOrDamagedLogIsRefusedWhereOneMustExist) {
  TempDir dir;
  const std::string path = dir.file("audit.sqlite");
  EXPECT_NE(errorOf([&] { AuditLog(path, true, kPatient); }).find("--new-audit-log"), std::string::npos);
  EXPECT_FALSE(fs::exists(path));  // refused without creating an empty one
  overwriteFile(path, std::string(4096, 'x'));
  EXPECT_NE(errorOf([&] { AuditLog(path, false, kPatient); }).find("not a pagefl audit log"), std::string::npos);
  EXPECT_NE(errorOf([&] { AuditLog(dir.path().string(), false, kPatient); }).find("is a directory"),
            std::string::npos);
}

TEST(AuditLog, ALockedDatabaseDelaysAWriteInsteadOfFailingIt) {
  TempDir dir;
  const std::string path = dir.file("audit.sqlite");
  AuditLog audit(path, false, std::chrono::seconds(30));
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE;", nullptr, nullptr, nullptr), SQLITE_OK);
  auto write = std::async(std::launch::async, [&] { audit.recordUpdate("site-a", 1, 10, "abc", kAccepted, ""); });
  EXPECT_EQ(write.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);  // waiting on the lock
  ASSERT_EQ(sqlite3_exec(other, "COMMIT;", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_NO_THROW(write.get());
  EXPECT_FALSE(audit.failed());
}

TEST(UploadBudget, BoundsTheBytesHeldAtOnceAndReturnsThemWhenReleased) {
  UploadBudget budget(100);
  auto first = budget.tryReserve(60);
  ASSERT_TRUE(first);
  EXPECT_FALSE(budget.tryReserve(41));
  {
    auto second = budget.tryReserve(40);
    ASSERT_TRUE(second);
    EXPECT_EQ(budget.used(), 100);
  }
  EXPECT_EQ(budget.used(), 60);
  first.reset();
  EXPECT_EQ(budget.used(), 0);
  EXPECT_FALSE(budget.tryReserve(-1));
}

TEST(ReplayBuffer, MemoryFollowsTheTransitionsStoredNotTheCapacity) {
  rl::ReplayBuffer replay(100'000'000, 8, 2);  // 7 GB if allocated up front
  replay.add(torch::ones({8}), torch::ones({2}), 1.0, torch::ones({8}));
  EXPECT_LE(replay.states().size(0), 64);
  EXPECT_EQ(replay.capacity(), 100'000'000);

  rl::ReplayBuffer small(3, 1, 1);
  rl::TransitionBatch storage{torch::zeros({4, 1}), torch::zeros({4, 1}), torch::zeros({4, 1}), torch::zeros({4, 1})};
  EXPECT_NE(errorOf([&] { small.restore(storage, 3, 0); }).find("more rows than its capacity"), std::string::npos);
  storage = {torch::zeros({2, 1}), torch::zeros({2, 1}), torch::zeros({2, 1}), torch::zeros({2, 1})};
  EXPECT_NE(errorOf([&] { small.restore(storage, 3, 0); }).find("cursor"), std::string::npos);
  EXPECT_NO_THROW(small.restore(storage, 2, 2));
}

}  // namespace
}  // namespace pagefl::net
