#include "pagefl/engine/round_engine.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

#include "pagefl/core/error.h"
#include "pagefl/core/runtime.h"

namespace pagefl {
namespace {

// Takes a round's updates into its record and into the fold, or keeps them for aggregate().
class RoundIntake final : public UpdateIntake {
 public:
  RoundIntake(RoundRecord& record, UpdateFold* fold, UploadScoreCache& scores,
              const std::vector<RunObserver*>& observers, bool export_personal)
      : record_(record), fold_(fold), scores_(scores), observers_(observers), export_personal_(export_personal) {}

  std::int64_t chunkSize() const override {
    return fold_ ? kClientsPerChunk : std::numeric_limits<std::int64_t>::max();
  }
  UploadScoreCache* uploadScores() override { return fold_ ? nullptr : &scores_; }

  void accept(ClientUpdate update, std::int64_t train_size, std::int64_t test_size) override {
    record_.clients.push_back({update.client, train_size, test_size, update.metrics});
    for (RunObserver* observer : observers_) observer->onUpdateReceived(record_.round, record_.clients.back());
    if (export_personal_) {
      // The personalised model is the upload unless the client sent one apart (as for P->S).
      const torch::Tensor& personal = update.personal.defined() ? update.personal : update.params;
      if (personal.defined())
        for (RunObserver* observer : observers_) observer->onPersonalModel(record_.round, update.client, personal);
      update.personal = torch::Tensor();  // never kept with the upload
    }
    if (fold_) {
      fold_->add(update);
    } else {
      kept.push_back(std::move(update));
    }
  }

  void refuse(std::int64_t client, std::string reason) override {
    record_.rejected.push_back({client, std::move(reason)});
    for (RunObserver* observer : observers_) observer->onUpdateRefused(record_.round, record_.rejected.back());
  }

  void aggregated(Metrics server_metrics) override { aggregated_metrics = std::move(server_metrics); }

  std::vector<ClientUpdate> kept;
  std::optional<Metrics> aggregated_metrics;

 private:
  RoundRecord& record_;
  UpdateFold* fold_;
  UploadScoreCache& scores_;
  const std::vector<RunObserver*>& observers_;
  bool export_personal_;
};

}  // namespace

bool isEvaluationRound(std::int64_t round, std::int64_t total, std::int64_t every) {
  return every > 0 && (round % every == 0 || round == total);
}

std::vector<std::int64_t> sampleParticipants(const RngStreams& streams, std::int64_t round, std::int64_t num_clients,
                                             double participation) {
  std::vector<std::int64_t> clients(static_cast<std::size_t>(num_clients));
  std::iota(clients.begin(), clients.end(), 0);
  const auto count = std::clamp<std::int64_t>(
      std::llround(participation * static_cast<double>(num_clients)), 1, num_clients);
  if (count == num_clients) return clients;
  auto rng = streams.engine(Purpose::Participation, round);
  for (std::int64_t i = 0; i < count; ++i) {  // partial Fisher-Yates
    std::uniform_int_distribution<std::int64_t> pick(i, num_clients - 1);
    std::swap(clients[i], clients[pick(rng)]);
  }
  clients.resize(static_cast<std::size_t>(count));
  std::sort(clients.begin(), clients.end());
  return clients;
}

RoundEngine::RoundEngine(const Config& config, EngineSettings settings, ServerAlgorithm& server,
                         ServerEvaluator& evaluator, ClientReach& reach, std::vector<RunObserver*> observers,
                         RunControls* controls)
    : config_(config),
      settings_(settings),
      server_(server),
      evaluator_(evaluator),
      reach_(reach),
      observers_(std::move(observers)),
      controls_(controls),
      streams_(static_cast<std::uint64_t>(config.run.seed)) {}

RunEnd RoundEngine::run() {
  const RunStarted started{config_.algorithm.name, settings_.first_round, config_.run.rounds, settings_.num_clients,
                           settings_.model};
  for (RunObserver* observer : observers_) observer->onRunStarted(started);
  completed_ = settings_.first_round - 1;
  for (std::int64_t round = settings_.first_round; round <= config_.run.rounds;) {
    if (reach_.interrupted() || !applyControls(round)) return end(RunEnd::Stopped);
    const std::optional<std::vector<std::int64_t>> candidates = reach_.candidates(round);
    if (!candidates) return end(RunEnd::Stopped);
    const RoundOutcome outcome = runRound(round, *candidates);
    if (outcome == RoundOutcome::Stop) return end(RunEnd::Stopped);
    if (outcome == RoundOutcome::Collected) completed_ = round++;
  }
  return end(RunEnd::Finished);
}

RunEnd RoundEngine::end(RunEnd how) {
  if (how == RunEnd::Finished)
    for (RunObserver* observer : observers_) observer->onGlobalModel(completed_, server_.global());
  for (RunObserver* observer : observers_) observer->onRunEnded(how, completed_);
  return how;
}

RoundOutcome RoundEngine::runRound(std::int64_t round, const std::vector<std::int64_t>& candidates) {
  const auto started = std::chrono::steady_clock::now();
  const std::int64_t total = config_.run.rounds;
  RoundRecord record;
  record.round = round;
  record.total_rounds = total;
  record.evaluated = isEvaluationRound(round, total, config_.eval.every);

  ServerMessage message = server_.configureRound(round);
  message.evaluate = record.evaluated;
  message.wants_personal = record.evaluated && config_.eval.personal_on_server;
  message.export_personal = settings_.exports_personal_models && record.evaluated && round == total;
  std::vector<std::int64_t> participants = sampleParticipants(
      streams_, round, static_cast<std::int64_t>(candidates.size()), config_.algorithm.participation);
  for (std::int64_t& index : participants) index = candidates[static_cast<std::size_t>(index)];
  for (RunObserver* observer : observers_) observer->onRoundStarted(round, participants);

  // With a fold, the reach hands uploads over in chunks that are folded in and dropped, so memory
  // does not grow with the client count; the result does not depend on the chunk size.
  std::unique_ptr<UpdateFold> fold = server_.beginFold(round);
  UploadScoreCache scores(evaluator_);  // only uploads kept for aggregate() are remembered
  RoundIntake intake(record, fold.get(), scores, observers_, message.export_personal);
  std::string why;
  const RoundOutcome outcome = reach_.collect(message, participants, intake, why);
  if (outcome != RoundOutcome::Collected) {
    if (!why.empty())
      for (RunObserver* observer : observers_) observer->onRoundDiscarded(round, why);
    return outcome;
  }
  if (record.clients.empty())
    throw Error("round {}: every client's update was rejected ({}); the run cannot continue", round,
                record.rejected.empty() ? "none arrived" : record.rejected.front().reason);

  if (intake.aggregated_metrics)
    record.server_metrics = std::move(*intake.aggregated_metrics);
  else
    record.server_metrics = fold ? fold->finish() : server_.aggregate(round, intake.kept, scores);
  if (record.evaluated) {
    auto cached = server_.globalOnServer();
    record.global_on_server = cached ? *cached : evaluator_.evaluate(server_.global());
  }
  reach_.complete(record, server_.global());
  record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  record.peak_resident_bytes = peakResidentBytes();
  record.global = &server_.global();
  record.settings_changed = std::move(changes_since_last_round_);
  changes_since_last_round_.clear();
  for (RunObserver* observer : observers_) observer->onRoundClosed(record);
  return RoundOutcome::Collected;
}

bool RoundEngine::applyControls(std::int64_t round) {
  if (!controls_) return true;
  using Kind = ControlRequest::Kind;
  for (;;) {
    for (const ControlRequest& request : controls_->takeDue(round)) {
      const std::string state = paused_ ? "paused" : "running";
      switch (request.kind) {
        case Kind::Stop:
          announce({round, request.who, kRunState, state, "stopped"});
          return false;
        case Kind::Pause:
          if (!paused_) announce({round, request.who, kRunState, state, "paused"});
          paused_ = true;
          break;
        case Kind::Resume:
          if (paused_) announce({round, request.who, kRunState, state, "running"});
          paused_ = false;
          break;
        case Kind::Set:
          applyChange(round, request);
          break;
      }
    }
    if (!paused_) return true;
    if (reach_.interrupted()) return false;
    controls_->waitForRequest(std::chrono::milliseconds(200));
  }
}

void RoundEngine::applyChange(std::int64_t round, const ControlRequest& request) {
  Config changed;
  try {
    changed = withSetting(config_, request.setting, request.value);
  } catch (const Error& e) {
    // Checked when requested, so only a change that no longer fits what an earlier one set.
    spdlog::warn("round {}: the change {} = {} by {} was not applied: {}", round, request.setting, request.value,
                 request.who, e.what());
    return;
  }
  const std::string old_value = settingText(config_, request.setting);
  config_ = std::move(changed);
  server_.reconfigure(config_);
  reach_.reconfigure(config_);
  const AppliedControl applied{round, request.who, request.setting, old_value, settingText(config_, request.setting)};
  changes_since_last_round_.push_back(applied);
  announce(applied);
}

void RoundEngine::announce(const AppliedControl& control) {
  spdlog::info("round {}: {} changed {} from {} to {}", control.round, control.who, control.setting, control.old_value,
               control.new_value);
  for (RunObserver* observer : observers_) observer->onControlApplied(control);
}

}  // namespace pagefl
