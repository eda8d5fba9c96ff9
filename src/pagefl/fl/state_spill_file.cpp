#include "pagefl/fl/state_spill_file.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <utility>

#include "pagefl/core/error.h"

namespace pagefl {
namespace {

std::string freshPath(const std::string& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) throw Error("cannot create run.spill_dir '{}' for client state: {}", directory.substr(0, 80), ec.message());
  static int counter = 0;
  return (std::filesystem::path(directory) / ("pagefl-client-state-" + std::to_string(getpid()) + "-" +
                                              std::to_string(++counter) + ".sqlite"))
      .string();
}

}  // namespace

StateSpillFile::StateSpillFile(const std::string& directory, bool keep)
    : StateSpillFile(freshPath(directory), keep, true) {}

StateSpillFile StateSpillFile::reopen(const std::string& path) { return StateSpillFile(path, true, false); }

StateSpillFile::StateSpillFile(std::string path, bool keep, bool create) : path_(std::move(path)), keep_(keep) {
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr) != SQLITE_OK) fail("open");
  // WAL with synchronous=NORMAL: committed rows survive a killed process, and a write never
  // waits for the disk to flush.
  const char* setup =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS states (client INTEGER PRIMARY KEY, state BLOB NOT NULL);";
  if (sqlite3_exec(db_, setup, nullptr, nullptr, nullptr) != SQLITE_OK) fail("set up");
}

StateSpillFile::StateSpillFile(StateSpillFile&& other) noexcept
    : path_(std::move(other.path_)), keep_(other.keep_), db_(std::exchange(other.db_, nullptr)) {}

StateSpillFile::~StateSpillFile() {
  if (!db_) return;
  sqlite3_close(db_);
  if (!keep_) {
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix, ignored);
  }
}

void StateSpillFile::fail(const std::string& doing) const {
  const int code = db_ ? sqlite3_errcode(db_) : SQLITE_CANTOPEN;
  std::string hint = "check the disk and run.spill_dir";
  if (code == SQLITE_FULL) hint = "the disk is full: free space or point run.spill_dir at a larger disk";
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
    hint = "the file is damaged; it is scratch space, so rerun the simulation";
  throw Error("client state spill file {}: cannot {}: {} ({})", path_, doing, db_ ? sqlite3_errmsg(db_) : "no handle",
              hint);
}

void StateSpillFile::put(std::int64_t client, const std::string& bytes) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO states (client, state) VALUES (?, ?)", -1, &statement, nullptr) !=
      SQLITE_OK)
    fail("prepare a write");
  sqlite3_bind_int64(statement, 1, client);
  sqlite3_bind_blob64(statement, 2, bytes.data(), bytes.size(), SQLITE_STATIC);
  const int result = sqlite3_step(statement);
  sqlite3_finalize(statement);
  if (result != SQLITE_DONE) fail("write the state of client " + std::to_string(client));
}

std::optional<std::string> StateSpillFile::get(std::int64_t client) const {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT state FROM states WHERE client = ?", -1, &statement, nullptr) != SQLITE_OK)
    fail("prepare a read");
  sqlite3_bind_int64(statement, 1, client);
  const int result = sqlite3_step(statement);
  std::optional<std::string> bytes;
  if (result == SQLITE_ROW) {
    const auto* data = static_cast<const char*>(sqlite3_column_blob(statement, 0));
    bytes = std::string(data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(statement, 0)));
  }
  sqlite3_finalize(statement);
  if (result != SQLITE_ROW && result != SQLITE_DONE) fail("read the state of client " + std::to_string(client));
  return bytes;
}

}  // namespace pagefl
