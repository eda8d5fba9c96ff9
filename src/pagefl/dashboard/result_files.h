// The results directory as the dashboard shares it, read only: what it holds, and a file in it
// named by a page's request (never a file outside it).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace pagefl::dashboard {

// `relative` under `root`, resolved, or nullopt when it is empty, absolute, holds "..", a
// backslash or a NUL, does not exist, or leads out of `root` through a link.
std::optional<std::filesystem::path> fileInside(const std::filesystem::path& root, const std::string& relative);

// A file the page may read: fileInside(), and a result's kind of file by its extension (.html,
// .csv, .json, .jsonl, .md, .png, .svg). Configs, keys, checkpoints, state and audit databases a
// results directory may also hold are never served.
std::optional<std::filesystem::path> resultFile(const std::filesystem::path& root, const std::string& relative);

// The comparisons (directories with compare.toml) and runs (with rounds.jsonl) directly in
// `directory`: [{"name", "kind": "comparison"|"run", "finished", "report", "runs": [...]}], at most
// 1,000; empty when the directory does not exist.
nlohmann::json resultsListing(const std::string& directory);

}  // namespace pagefl::dashboard
