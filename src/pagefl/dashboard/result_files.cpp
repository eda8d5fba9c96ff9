#include "pagefl/dashboard/result_files.h"

#include <algorithm>
#include <array>

namespace pagefl::dashboard {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr std::size_t kMaxResultEntries = 1000;
constexpr std::array<const char*, 7> kServedExtensions = {".html", ".csv", ".json", ".jsonl", ".md", ".png", ".svg"};
}  // namespace

std::optional<fs::path> fileInside(const fs::path& root, const std::string& relative) {
  if (relative.empty() || relative.find('\0') != std::string::npos || relative.front() == '/' ||
      relative.find('\\') != std::string::npos)
    return std::nullopt;
  for (const auto& part : fs::path(relative))
    if (part == "..") return std::nullopt;
  std::error_code error;
  const fs::path base = fs::canonical(root, error);
  if (error) return std::nullopt;
  const fs::path target = fs::canonical(base / relative, error);
  if (error) return std::nullopt;
  // canonical() has followed every link: what is left must still start with the root.
  const std::string base_text = base.string() + "/", target_text = target.string();
  if (target_text.rfind(base_text, 0) != 0) return std::nullopt;
  return target;
}

std::optional<fs::path> resultFile(const fs::path& root, const std::string& relative) {
  std::optional<fs::path> file = fileInside(root, relative);
  if (!file) return std::nullopt;
  const std::string extension = file->extension().string();
  for (const char* served : kServedExtensions)
    if (extension == served) return file;
  return std::nullopt;
}

json resultsListing(const std::string& directory) {
  json entries = json::array();
  std::error_code error;
  if (directory.empty() || !fs::is_directory(directory, error)) return entries;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    if (entries.size() >= kMaxResultEntries) break;
    if (!entry.is_directory()) continue;
    const fs::path path = entry.path();
    const bool comparison = fs::exists(path / "compare.toml");
    const bool run = fs::exists(path / "rounds.jsonl");
    if (!comparison && !run) continue;
    json item = {{"name", path.filename().string()},
                 {"kind", comparison ? "comparison" : "run"},
                 {"finished", fs::exists(path / (comparison ? "summary.csv" : "summary.json"))},
                 {"report", fs::exists(path / "report.html")}};
    if (comparison) {
      json runs = json::array();
      for (const auto& inner : fs::directory_iterator(path, error))
        if (inner.is_directory() && fs::exists(inner.path() / "rounds.jsonl"))
          runs.push_back(
              {{"name", inner.path().filename().string()}, {"finished", fs::exists(inner.path() / "summary.json")}});
      item["runs"] = runs;
    }
    entries.push_back(item);
  }
  std::sort(entries.begin(), entries.end(), [](const json& a, const json& b) { return a["name"] < b["name"]; });
  return entries;
}

}  // namespace pagefl::dashboard
