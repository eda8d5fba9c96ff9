// Where the ClientState store puts the states it cannot keep in memory: one SQLite file on local
// disk, a row per client holding its saved state (ClientState::save, serialised). Committed rows
// survive a killed process; a full or damaged disk raises pagefl::Error naming the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

struct sqlite3;

namespace pagefl {

class StateSpillFile {
 public:
  // Creates a fresh file in `directory` (made if missing). The file is removed on destruction
  // unless `keep` is set.
  explicit StateSpillFile(const std::string& directory, bool keep = false);
  // Opens an existing file written earlier (a test reads one back after a kill).
  static StateSpillFile reopen(const std::string& path);
  ~StateSpillFile();
  StateSpillFile(StateSpillFile&& other) noexcept;
  StateSpillFile(const StateSpillFile&) = delete;
  StateSpillFile& operator=(const StateSpillFile&) = delete;
  StateSpillFile& operator=(StateSpillFile&&) = delete;

  const std::string& path() const { return path_; }
  void put(std::int64_t client, const std::string& bytes);
  std::optional<std::string> get(std::int64_t client) const;

 private:
  StateSpillFile(std::string path, bool keep, bool create);
  void fail(const std::string& doing) const;

  std::string path_;
  bool keep_ = false;
  sqlite3* db_ = nullptr;
};

}  // namespace pagefl
