// The server's audit log, in SQLite: every update received (client, round, time, size, SHA-256,
// and whether it was accepted, applied, rejected or discarded, with the reason), every model
// published with its hash, and the server's own events (start, resume, stop).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pagefl/core/sha256.h"

struct sqlite3;

namespace pagefl::net {

// An update's fate: accepted on arrival, applied when its round is aggregated; discarded when
// its round was repeated or lost to a server restart; rejected on arrival with a reason.
inline constexpr const char* kAccepted = "accepted";
inline constexpr const char* kApplied = "applied";
inline constexpr const char* kRejected = "rejected";
inline constexpr const char* kDiscarded = "discarded";

// Every write checks first that the file it opened is still the one at its path, so that a log
// deleted or replaced under a running server is noticed rather than written into the void. A
// locked database is waited for up to `busy_timeout`. A write that fails leaves the log failed:
// later writes throw at once, and failure() says why, for the server to stop on.
class AuditLog {
 public:
  // Opens the database, creating it unless `must_exist`, and checks its integrity. Throws
  // pagefl::Error when it cannot, or when the file is damaged or not a pagefl audit log.
  AuditLog(const std::string& path, bool must_exist, std::chrono::milliseconds busy_timeout);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  void recordUpdate(const std::string& client, std::int64_t round, std::int64_t bytes, const std::string& sha256,
                    const char* status, const std::string& reason);
  // The round's accepted updates were aggregated into the model published with `model_sha256`.
  void applyRound(std::int64_t round, const std::string& model_sha256);
  // The round's accepted updates will not be aggregated (too few arrived; the round is repeated).
  void discardRound(std::int64_t round, const std::string& reason);
  // After a restart from the checkpoint of `checkpoint_round`: updates of later rounds were never
  // part of a checkpointed model, so they are discarded (their rounds are run again).
  void reconcileWithCheckpoint(std::int64_t checkpoint_round);
  void recordModel(std::int64_t round, const std::string& kind, const std::string& sha256, std::int64_t bytes);
  void recordEvent(const std::string& kind, const std::string& detail);
  // The SHA-256 of the model aggregated in `round`, as recorded (nothing when none was).
  std::optional<std::string> aggregatedModel(std::int64_t round);

  // Why the log can no longer be written, or nothing while it can.
  std::optional<std::string> failure() const;
  bool failed() const { return failed_; }

 private:
  void execute(const std::string& sql);
  // Runs `write` under the lock after checking the file is still ours; a failure is kept.
  template <typename Write>
  void guarded(Write&& write);
  void checkStillThere() const;

  mutable std::mutex mutex_;
  sqlite3* db_ = nullptr;
  std::string path_;
  std::uint64_t device_ = 0, inode_ = 0;  // the file opened, to notice its deletion or replacement
  std::atomic<bool> failed_ = false;
  std::string failure_;
};

struct AuditQuery {
  std::string client;               // empty: all
  std::optional<std::int64_t> round;
  std::string status;               // empty: all
  bool models = false;              // the published models instead of the updates
  bool events = false;              // the server's events instead of the updates
  bool full_hashes = false;         // whole SHA-256s (the table shows their first 16 digits)
  std::int64_t limit = 0;           // the newest this many rows (0: all)
};

struct AuditTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  // in the order written
};

// What `query` selects. Throws pagefl::Error for a missing or foreign database.
AuditTable selectAudit(const std::string& path, const AuditQuery& query);

// A table of what `query` selects, for `pagefl audit`. Throws pagefl::Error for a missing or
// foreign database.
std::string queryAudit(const std::string& path, const AuditQuery& query);

}  // namespace pagefl::net
