#include "pagefl/pilot/run_results.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pagefl/core/directories.h"
#include "pagefl/core/config.h"
#include "pagefl/core/error.h"

namespace pagefl {
namespace {

using nlohmann::json;

std::vector<json> readJsonLines(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error("missing '{}': is this a pagefl run directory?", path.string());
  std::vector<json> lines;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.empty()) continue;
    try {
      lines.push_back(json::parse(line));
    } catch (const json::exception& e) {
      throw Error("'{}' line {} is not JSON: {}", path.string(), number, e.what());
    }
  }
  return lines;
}

}  // namespace

double roundsToRecover(const std::vector<std::pair<std::int64_t, double>>& series, std::int64_t shift) {
  std::optional<double> before;
  for (const auto& [round, value] : series) {
    if (round < shift) {
      before = value;
    } else if (before && value >= *before) {
      return static_cast<double>(round - shift);
    }
  }
  return NAN;
}

bool isFinishedRun(const std::string& directory) {
  return std::filesystem::is_regular_file(std::filesystem::path(directory) / "summary.json");
}

bool reusableRunOf(const std::string& directory, const Config& config) {
  namespace fs = std::filesystem;
  const fs::path run_dir(directory);
  if (isFinishedRun(directory)) {
    std::ifstream in(run_dir / "config.toml");
    const std::string saved((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (saved == toToml(config)) return true;
    const fs::path replaced = run_dir.parent_path() / "replaced";
    ensureDirectory(replaced.string(), "the directory of replaced runs");
    fs::path aside = replaced / run_dir.filename();
    for (int k = 2; fs::exists(aside); ++k) aside = replaced / (run_dir.filename().string() + "-" + std::to_string(k));
    fs::rename(run_dir, aside);
    spdlog::warn("{} was a finished run of another config (other rounds, overrides or --tune); moved to {}",
                 directory, aside.string());
  }
  fs::remove_all(run_dir);  // an interrupted run starts over
  return false;
}

RunResult readRunResult(const std::string& directory) {
  const std::filesystem::path dir(directory);
  const Config config = loadConfig((dir / "config.toml").string());
  RunResult result;
  result.algorithm = config.algorithm.name;
  result.seed = config.run.seed;
  bool any = false;
  std::vector<std::pair<std::int64_t, double>> g2s_series, p2l_series;
  try {
    for (const json& round : readJsonLines(dir / "rounds.jsonl")) {
      if (!round.value("evaluated", false)) continue;
      const double g2s = round.at("g2s").at("acc").get<double>();
      const json& p2l = round.at("p2l").at("acc");
      result.g2s_best = any ? std::max(result.g2s_best, g2s) : g2s;
      result.p2l_best = any ? std::max(result.p2l_best, p2l.at("mean").get<double>()) : p2l.at("mean").get<double>();
      result.final_round = round.at("round").get<std::int64_t>();
      result.g2s_final = g2s;
      result.p2l_final = p2l.at("mean").get<double>();
      result.p2l_std_final = p2l.at("std").get<double>();
      result.p2l_worst_final = p2l.at("worst").get<double>();
      result.p2l_p10_final = p2l.at("p10").get<double>();
      g2s_series.emplace_back(result.final_round, g2s);
      p2l_series.emplace_back(result.final_round, result.p2l_final);
      if (round.contains("g2n")) result.g2n_final = round["g2n"]["acc"]["mean"].get<double>();
      if (round.contains("ft2n")) result.ft2n_final = round["ft2n"]["acc"]["mean"].get<double>();
      any = true;
    }
  } catch (const json::exception& e) {
    throw Error("'{}' lacks a field a comparison needs: {}", (dir / "rounds.jsonl").string(), e.what());
  }
  if (!any) throw Error("'{}' has no evaluated round", (dir / "rounds.jsonl").string());
  const std::int64_t shift = std::max(config.page.shift_round, config.partition.late_join_round);
  if (shift > 1) {
    result.g2s_recovery_rounds = roundsToRecover(g2s_series, shift);
    result.p2l_recovery_rounds = roundsToRecover(p2l_series, shift);
  }
  double seconds = 0;
  const auto timing = readJsonLines(dir / "timing.jsonl");
  for (const json& round : timing) seconds += round.value("seconds", 0.0);
  result.seconds_per_round = timing.empty() ? 0.0 : seconds / static_cast<double>(timing.size());
  return result;
}

}  // namespace pagefl
