#include "pagefl/net/audit_log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <vector>

#include "pagefl/core/error.h"

namespace pagefl::net {
namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS updates (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time TEXT NOT NULL,
  client TEXT NOT NULL,
  round INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  model_sha256 TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS updates_by_round ON updates(round);
CREATE TABLE IF NOT EXISTS models (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time TEXT NOT NULL,
  round INTEGER NOT NULL,
  kind TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  bytes INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time TEXT NOT NULL,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL
);
)";

std::string utcNow() {
  const auto now = std::chrono::system_clock::now();
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(now)), millis);
}

// A prepared statement with positional text/integer bindings, finalised on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement_, nullptr) != SQLITE_OK)
      throw Error("audit log: cannot prepare a query ({}): is this a pagefl audit database?", sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(const std::string& text) {
    sqlite3_bind_text(statement_, ++index_, text.c_str(), -1, SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(std::int64_t value) {
    sqlite3_bind_int64(statement_, ++index_, value);
    return *this;
  }
  // Steps once; returns whether a row is available.
  bool step() {
    const int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) throw Error("audit log: {}", sqlite3_errmsg(db_));
    return false;
  }
  int columns() const { return sqlite3_column_count(statement_); }
  std::string column(int i) const {
    const unsigned char* text = sqlite3_column_text(statement_, i);
    return text ? reinterpret_cast<const char*>(text) : "";
  }
  std::string columnName(int i) const { return sqlite3_column_name(statement_, i); }

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
  int index_ = 0;
};

sqlite3* openDatabase(const std::string& path, int flags, std::chrono::milliseconds busy_timeout) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string reason = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw Error("cannot open the audit log '{}': {}", path, reason);
  }
  sqlite3_busy_timeout(db, static_cast<int>(std::min<std::int64_t>(busy_timeout.count(), 1 << 30)));
  return db;
}

// The identity of the file at `path`, or nothing when there is none.
std::optional<std::pair<std::uint64_t, std::uint64_t>> fileIdentity(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return std::nullopt;
  return std::pair<std::uint64_t, std::uint64_t>{info.st_dev, info.st_ino};
}

}  // namespace

AuditLog::AuditLog(const std::string& path, bool must_exist, std::chrono::milliseconds busy_timeout) : path_(path) {
  if (std::filesystem::is_directory(path)) throw Error("the audit log '{}' is a directory; it must be a file", path);
  if (must_exist && !std::filesystem::exists(path))
    throw Error("the audit log '{}' is missing: restore it from a backup, or pass --new-audit-log to resume with a "
                "new, empty log (the history of earlier rounds is then lost)",
                path);
  db_ = openDatabase(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, busy_timeout);
  std::string integrity;
  try {
    {
      Statement check(db_, "PRAGMA quick_check;");  // finalised before the pragmas below may run
      if (check.step()) integrity = check.column(0);
    }
    if (integrity == "ok") {
      execute("PRAGMA journal_mode=WAL;");
      execute("PRAGMA synchronous=FULL;");
      execute(kSchema);
    }
  } catch (const Error& e) {
    sqlite3_close(db_);
    throw Error("'{}' is not a pagefl audit log ({}): move it away or set deploy.run_dir", path, e.what());
  }
  if (integrity != "ok") {
    sqlite3_close(db_);
    throw Error("the audit log '{}' is damaged (SQLite: {:.80}): restore it from a backup", path, integrity);
  }
  const auto identity = fileIdentity(path);
  if (!identity) throw Error("the audit log '{}' vanished as it was opened", path);
  std::tie(device_, inode_) = *identity;
}

AuditLog::~AuditLog() { sqlite3_close(db_); }

void AuditLog::checkStillThere() const {
  const auto identity = fileIdentity(path_);
  if (!identity) throw Error("the audit log '{}' was deleted while the server ran", path_);
  if (identity->first != device_ || identity->second != inode_)
    throw Error("the audit log '{}' was replaced by another file while the server ran", path_);
}

template <typename Write>
void AuditLog::guarded(Write&& write) {
  std::lock_guard lock(mutex_);
  if (failed_) throw Error("{}", failure_);
  try {
    checkStillThere();
    write();
  } catch (const Error& e) {
    failure_ = e.what();
    failed_ = true;
    throw;
  }
}

std::optional<std::string> AuditLog::failure() const {
  std::lock_guard lock(mutex_);
  if (!failed_) return std::nullopt;
  return failure_;
}

void AuditLog::execute(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string reason = message ? message : "unknown error";
    sqlite3_free(message);
    throw Error("audit log '{}': {}", path_, reason);
  }
}

void AuditLog::recordUpdate(const std::string& client, std::int64_t round, std::int64_t bytes,
                            const std::string& sha256, const char* status, const std::string& reason) {
  guarded([&] {
    Statement(db_, "INSERT INTO updates(time, client, round, bytes, sha256, status, reason) VALUES (?,?,?,?,?,?,?)")
        .bind(utcNow()).bind(client).bind(round).bind(bytes).bind(sha256).bind(std::string(status)).bind(reason)
        .step();
  });
}

void AuditLog::applyRound(std::int64_t round, const std::string& model_sha256) {
  guarded([&] {
    Statement(db_, "UPDATE updates SET status = ?, model_sha256 = ? WHERE round = ? AND status = ?")
        .bind(std::string(kApplied)).bind(model_sha256).bind(round).bind(std::string(kAccepted))
        .step();
  });
}

void AuditLog::discardRound(std::int64_t round, const std::string& reason) {
  guarded([&] {
    Statement(db_, "UPDATE updates SET status = ?, reason = ? WHERE round = ? AND status = ?")
        .bind(std::string(kDiscarded)).bind(reason).bind(round).bind(std::string(kAccepted))
        .step();
  });
}

void AuditLog::reconcileWithCheckpoint(std::int64_t checkpoint_round) {
  guarded([&] {
    Statement(db_, "UPDATE updates SET status = ?, reason = ? WHERE round > ? AND status IN (?, ?)")
        .bind(std::string(kDiscarded))
        .bind(fmt::format("the server restarted from its round-{} checkpoint; this round was run again",
                          checkpoint_round))
        .bind(checkpoint_round).bind(std::string(kAccepted)).bind(std::string(kApplied))
        .step();
    Statement(db_, "UPDATE models SET kind = kind || ' (discarded: server restarted)' WHERE round > ? AND kind NOT "
                   "LIKE '%discarded%'")
        .bind(checkpoint_round)
        .step();
  });
}

void AuditLog::recordModel(std::int64_t round, const std::string& kind, const std::string& sha256,
                           std::int64_t bytes) {
  guarded([&] {
    Statement(db_, "INSERT INTO models(time, round, kind, sha256, bytes) VALUES (?,?,?,?,?)")
        .bind(utcNow()).bind(round).bind(kind).bind(sha256).bind(bytes)
        .step();
  });
}

void AuditLog::recordEvent(const std::string& kind, const std::string& detail) {
  guarded([&] {
    Statement(db_, "INSERT INTO events(time, kind, detail) VALUES (?,?,?)").bind(utcNow()).bind(kind).bind(detail).step();
  });
}

std::optional<std::string> AuditLog::aggregatedModel(std::int64_t round) {
  std::optional<std::string> sha256;
  guarded([&] {
    Statement query(db_, "SELECT sha256 FROM models WHERE round = ? AND kind = 'aggregated' ORDER BY id DESC LIMIT 1");
    query.bind(round);
    if (query.step()) sha256 = query.column(0);
  });
  return sha256;
}

AuditTable selectAudit(const std::string& path, const AuditQuery& query) {
  if (!std::filesystem::exists(path))
    throw Error("no audit log at '{}': it is audit.sqlite in the server's run directory", path);
  sqlite3* db = openDatabase(path, SQLITE_OPEN_READONLY, std::chrono::seconds(5));
  AuditTable table;
  try {
    std::string sql;
    std::vector<std::string> conditions;
    const char* hash = query.full_hashes ? "sha256" : "substr(sha256, 1, 16) AS sha256";
    if (query.events) {
      sql = "SELECT time, kind, detail FROM events";
    } else if (query.models) {
      sql = fmt::format("SELECT time, round, kind, {}, bytes FROM models", hash);
      if (query.round) conditions.push_back("round = ?");
    } else {
      sql = fmt::format("SELECT time, client, round, bytes, {}, status, reason FROM updates", hash);
      if (!query.client.empty()) conditions.push_back("client = ?");
      if (query.round) conditions.push_back("round = ?");
      if (!query.status.empty()) conditions.push_back("status = ?");
    }
    for (std::size_t i = 0; i < conditions.size(); ++i) sql += (i ? " AND " : " WHERE ") + conditions[i];
    // With a limit, the newest rows are read first and put back in the order written below.
    sql += query.limit > 0 ? fmt::format(" ORDER BY id DESC LIMIT {}", query.limit) : std::string(" ORDER BY id");
    Statement statement(db, sql);
    if (!query.events && !query.models && !query.client.empty()) statement.bind(query.client);
    if (!query.events && query.round) statement.bind(*query.round);
    if (!query.events && !query.models && !query.status.empty()) statement.bind(query.status);
    for (int i = 0; i < statement.columns(); ++i) table.columns.push_back(statement.columnName(i));
    while (statement.step()) {
      std::vector<std::string> row;
      for (int i = 0; i < statement.columns(); ++i) row.push_back(statement.column(i));
      table.rows.push_back(std::move(row));
    }
    if (query.limit > 0) std::reverse(table.rows.begin(), table.rows.end());
  } catch (...) {
    sqlite3_close(db);
    throw;
  }
  sqlite3_close(db);
  return table;
}

std::string queryAudit(const std::string& path, const AuditQuery& query) {
  const AuditTable table = selectAudit(path, query);
  std::vector<std::size_t> widths(table.columns.size(), 0);
  auto widen = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  };
  auto print = [&](const std::vector<std::string>& row, std::string& out) {
    for (std::size_t i = 0; i < row.size(); ++i)
      out += fmt::format("{:<{}}{}", row[i], i + 1 < row.size() ? widths[i] : 0, i + 1 < row.size() ? "  " : "\n");
  };
  widen(table.columns);
  for (const auto& row : table.rows) widen(row);
  std::string out;
  print(table.columns, out);
  for (const auto& row : table.rows) print(row, out);
  out += fmt::format("{} row(s)\n", table.rows.size());
  return out;
}

}  // namespace pagefl::net
