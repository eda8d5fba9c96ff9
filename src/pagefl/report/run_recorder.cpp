#include "pagefl/report/run_recorder.h"

#include <fmt/format.h>

#include <filesystem>

#include "pagefl/core/directories.h"
#include "pagefl/core/error.h"
#include "pagefl/fl/streams.h"
#include "pagefl/modelfile/model_export.h"
#include "pagefl/report/client_aggregates.h"

namespace pagefl {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string freshDirectory(const std::string& parent, const std::string& name) {
  fs::path candidate = fs::path(parent) / name;
  for (int suffix = 2; fs::exists(candidate); ++suffix) candidate = fs::path(parent) / fmt::format("{}-{}", name, suffix);
  ensureDirectory(candidate.string(), "the run directory (run.output_dir)");
  return candidate.string();
}

std::ofstream openFile(const std::string& directory, const char* name) {
  std::ofstream out(fs::path(directory) / name);
  if (!out) throw Error("cannot write '{}' in run directory '{}'", name, directory);
  return out;
}

constexpr const char* kClientStreams[] = {streams::kGlobalOnLocal, streams::kPersonalOnLocal,
                                          streams::kPersonalOnServer, streams::kGlobalOnNew,
                                          streams::kFineTunedOnNew};

// The lines of a JSONL file whose "round" is at most `last_round`.
std::vector<json> linesUpTo(const fs::path& path, std::int64_t last_round) {
  std::vector<json> kept;
  std::ifstream in(path);
  for (std::string text; std::getline(in, text);) {
    json line = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (line.is_discarded()) break;  // a line torn by a crash ends the usable part
    if (line.value("round", std::int64_t{0}) <= last_round) kept.push_back(std::move(line));
  }
  return kept;
}

// Rewrites `name` in `directory` with only its rounds up to `last_round`, and opens it for appending.
std::ofstream reopenUpTo(const std::string& directory, const char* name, std::int64_t last_round,
                         std::vector<json>* kept_out = nullptr) {
  const fs::path path = fs::path(directory) / name;
  std::vector<json> kept = linesUpTo(path, last_round);
  {
    std::ofstream rewrite(path, std::ios::trunc);
    if (!rewrite) throw Error("cannot write '{}' in run directory '{}'", name, directory);
    for (const json& line : kept) rewrite << line.dump() << "\n";
  }
  if (kept_out) *kept_out = std::move(kept);
  return std::ofstream(path, std::ios::app);
}

json toJson(const ClientAggregate& a) {
  return {{"mean", a.mean}, {"weighted_mean", a.weighted_mean}, {"std", a.std}, {"worst", a.worst}, {"p10", a.p10}};
}

}  // namespace

RunRecorder::RunRecorder(const Config& config)
    : config_(config),
      directory_(freshDirectory(config.run.output_dir, config.run.name)),
      rounds_(openFile(directory_, "rounds.jsonl")),
      clients_(openFile(directory_, "clients.jsonl")),
      timing_(openFile(directory_, "timing.jsonl")),
      controls_(openFile(directory_, "controls.jsonl")) {
  openFile(directory_, "config.toml") << toToml(config);
}

RunRecorder::RunRecorder(const Config& config, const std::string& directory, std::int64_t resume_after_round)
    : config_(config), directory_(directory) {
  ensureDirectory(directory_, "the run directory");
  std::vector<json> rounds, timing;
  rounds_ = reopenUpTo(directory_, "rounds.jsonl", resume_after_round, &rounds);
  clients_ = reopenUpTo(directory_, "clients.jsonl", resume_after_round);
  timing_ = reopenUpTo(directory_, "timing.jsonl", resume_after_round, &timing);
  // A control applied when the round after the checkpoint started is in force again on resume.
  controls_ = reopenUpTo(directory_, "controls.jsonl", resume_after_round + 1);
  for (const json& line : rounds) trackLine(line);
  for (const json& line : timing) ++rounds_seen_, total_seconds_ += line.value("seconds", 0.0);
  openFile(directory_, "config.toml") << toToml(config);
}

void RunRecorder::track(const std::string& series, double value, std::int64_t round) {
  auto [it, fresh] = summary_.try_emplace(series, SeriesSummary{value, round, value, round});
  SeriesSummary& s = it->second;
  s.final_value = value;
  s.final_round = round;
  if (!fresh && value > s.best_value) s.best_value = value, s.best_round = round;
}

void RunRecorder::trackLine(const json& line) {
  const std::int64_t round = line.at("round").get<std::int64_t>();
  if (line.contains(streams::kGlobalOnServer)) track("g2s_acc", line[streams::kGlobalOnServer]["acc"], round);
  for (const char* stream : kClientStreams) {
    if (!line.contains(stream)) continue;
    const json& acc = line[stream]["acc"];
    track(fmt::format("{}_acc_mean", stream), acc["mean"], round);
    if (std::string(stream) == streams::kPersonalOnLocal) {
      track("p2l_acc_worst", acc["worst"], round);
      track("p2l_acc_p10", acc["p10"], round);
    }
  }
}

json roundLine(const RoundRecord& record) {
  json line = {{"round", record.round}, {"evaluated", record.evaluated}, {"participants", record.clients.size()}};
  if (!record.rejected.empty()) {
    json rejected = json::array();
    for (const auto& r : record.rejected) rejected.push_back({{"client", r.client}, {"reason", r.reason}});
    line["rejected"] = rejected;
  }
  if (record.evaluated) {
    line[streams::kGlobalOnServer] = {{"acc", record.global_on_server.accuracy()},
                                      {"loss", record.global_on_server.loss()}};
    for (const char* stream : kClientStreams) {
      const bool on_new = std::string(stream) == streams::kGlobalOnNew || std::string(stream) == streams::kFineTunedOnNew;
      std::vector<double> accuracy, loss, weights;
      for (const ClientRecord& client : on_new ? record.new_clients : record.clients) {
        auto acc = client.metrics.find(streams::accuracyKey(stream));
        if (acc == client.metrics.end()) continue;
        accuracy.push_back(acc->second);
        loss.push_back(client.metrics.at(streams::lossKey(stream)));
        weights.push_back(static_cast<double>(
            std::string(stream) == streams::kPersonalOnServer ? 1 : client.test_size));
      }
      if (accuracy.empty()) continue;
      line[stream] = {{"acc", toJson(aggregateClients(accuracy, weights))},
                      {"loss", toJson(aggregateClients(loss, weights))}};
    }
  }
  if (!record.server_metrics.empty()) line["server"] = record.server_metrics;
  if (!record.settings_changed.empty()) {  // absent without changes: such runs' files stay as they were
    json changes = json::array();
    for (const AppliedControl& change : record.settings_changed)
      changes.push_back(
          {{"setting", change.setting}, {"old", change.old_value}, {"new", change.new_value}, {"who", change.who}});
    line["settings_changed"] = changes;
  }
  return line;
}

json clientLine(std::int64_t round, const ClientRecord& client) {
  json row = {
      {"round", round}, {"client", client.client}, {"train_size", client.train_size}, {"test_size", client.test_size}};
  for (const auto& [key, value] : client.metrics) row[key] = value;
  return row;
}

void RunRecorder::onRoundClosed(const RoundRecord& record) {
  const json line = roundLine(record);
  trackLine(line);
  // run.keep_best: this round's model when its G->S is the best so far (the earliest on a tie, as
  // summary.json's best_round).
  if (config_.run.keep_best && record.evaluated && record.global && summary_.at("g2s_acc").best_round == record.round)
    exportModel(bestGlobalModelPath(directory_), config_, model_, layout_, record.round, -1, *record.global);
  rounds_ << line.dump() << "\n";
  for (const ClientRecord& client : record.clients) clients_ << clientLine(record.round, client).dump() << "\n";
  timing_ << json{{"round", record.round},
                  {"seconds", record.seconds},
                  {"client_state_mb", static_cast<double>(record.client_state_bytes) / 1e6},
                  {"client_state_in_memory_mb", static_cast<double>(record.client_state_memory_bytes) / 1e6},
                  {"peak_rss_mb", static_cast<double>(record.peak_resident_bytes) / 1e6}}
                 .dump()
          << "\n";
  rounds_.flush();
  clients_.flush();
  timing_.flush();
  ++rounds_seen_;
  total_seconds_ += record.seconds;
}

void RunRecorder::onRunEnded(RunEnd end, std::int64_t) {
  if (end != RunEnd::Finished) return;  // no summary: the run directory must not look finished
  json streams_json = json::object();
  for (const auto& [series, s] : summary_)
    streams_json[series] = {{"final", s.final_value}, {"final_round", s.final_round}, {"best", s.best_value},
                            {"best_round", s.best_round}};
  json summary = {{"rounds", rounds_seen_},
                  {"seconds_total", total_seconds_},
                  {"seconds_per_round", rounds_seen_ ? total_seconds_ / static_cast<double>(rounds_seen_) : 0.0},
                  {"streams", streams_json}};
  openFile(directory_, "summary.json") << summary.dump(2) << "\n";
}

void RunRecorder::onRunStarted(const RunStarted& run) {
  model_ = run.model;
  layout_ = FlatModel(makeNetwork(model_)).layout();  // once: every exported file is laid out alike
}

void RunRecorder::onPersonalModel(std::int64_t round, std::int64_t client, const torch::Tensor& personal) {
  exportModel(personalModelPath(directory_, client), config_, model_, layout_, round, client, personal);
}

void RunRecorder::onGlobalModel(std::int64_t round, const torch::Tensor& global) {
  exportModel(globalModelPath(directory_), config_, model_, layout_, round, -1, global);
}

void RunRecorder::onControlApplied(const AppliedControl& control) {
  controls_ << json{{"round", control.round},
                    {"who", control.who},
                    {"setting", control.setting},
                    {"old", control.old_value},
                    {"new", control.new_value}}
                   .dump()
            << "\n";
  controls_.flush();
}

std::vector<AppliedControl> readControls(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open the recorded controls '{}': check the path", path);
  std::vector<AppliedControl> controls;
  std::int64_t number = 0;
  for (std::string text; std::getline(in, text);) {
    ++number;
    if (text.empty()) continue;
    const json line = json::parse(text, nullptr, /*allow_exceptions=*/false);
    auto field = [&](const char* key) -> const json& {
      if (!line.is_object() || !line.contains(key) || !(line[key].is_string() || line[key].is_number_integer()))
        throw Error("{} line {}: expected a control as pagefl records it, with \"round\", \"who\", \"setting\", "
                    "\"old\" and \"new\"; it reads '{}'",
                    path, number, excerpt(text));
      return line[key];
    };
    const json& round = field("round");
    if (!round.is_number_integer() || round.get<std::int64_t>() < 1)
      throw Error("{} line {}: \"round\" must be a round number, 1 or more", path, number);
    auto textOf = [&](const char* key) {
      const json& value = field(key);
      if (!value.is_string()) throw Error("{} line {}: \"{}\" must be a string", path, number, key);
      return value.get<std::string>();
    };
    controls.push_back({round.get<std::int64_t>(), textOf("who"), textOf("setting"), textOf("old"), textOf("new")});
  }
  return controls;
}

std::string formatSummary(const std::map<std::string, SeriesSummary>& summary) {
  static const std::map<std::string, std::string> kLabels = {
      {"g2s_acc", "G->S global model, server test"},
      {"g2l_acc_mean", "G->L global model, local tests (mean)"},
      {"p2l_acc_mean", "P->L personal model, local tests (mean)"},
      {"p2l_acc_worst", "P->L worst client"},
      {"p2l_acc_p10", "P->L 10th percentile client"},
      {"p2s_acc_mean", "P->S personal models, server test (mean)"},
      {"g2n_acc_mean", "G->N global model, new clients (mean)"},
      {"ft2n_acc_mean", "FT->N global + local steps, new clients"}};
  std::string out = fmt::format("{:<44} {:>16} {:>16}\n", "accuracy", "final (round)", "best (round)");
  for (const auto& [series, s] : summary) {
    auto label = kLabels.count(series) ? kLabels.at(series) : series;
    out += fmt::format("{:<44} {:>8.2f}% ({:>4}) {:>8.2f}% ({:>4})\n", label, 100 * s.final_value, s.final_round,
                       100 * s.best_value, s.best_round);
  }
  return out;
}

}  // namespace pagefl
