#include "pagefl/net/deployed_sites.h"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "pagefl/core/error.h"
#include "pagefl/core/sha256.h"
#include "pagefl/fl/state_archive.h"
#include "pagefl/net/wire_codec.h"

namespace pagefl::net {
namespace {

std::chrono::milliseconds deadlineOf(const Config& config) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(config.deploy.round_deadline_s * 1000));
}

}  // namespace

std::vector<std::string> siteNames(const RoundCoordinator& coordinator, const std::vector<std::int64_t>& clients) {
  std::vector<std::string> names;
  for (std::int64_t c : clients) names.push_back(coordinator.site(c).name);
  return names;
}

DeployedSites::DeployedSites(const Config& config, RoundCoordinator& coordinator, AuditLog& audit,
                             const std::atomic<bool>& stop)
    : total_rounds_(config.run.rounds),
      min_clients_(config.deploy.min_clients),
      min_updates_(config.deploy.min_updates),
      round_deadline_(deadlineOf(config)),
      coordinator_(coordinator),
      audit_(audit),
      stop_(stop) {}

void DeployedSites::reconfigure(const Config& settings) { round_deadline_ = deadlineOf(settings); }

std::optional<std::vector<std::int64_t>> DeployedSites::candidates(std::int64_t round) {
  auto last_note = Clock::now() - std::chrono::hours(1);
  for (;;) {
    std::vector<std::int64_t> live = coordinator_.liveClients();
    if (static_cast<std::int64_t>(live.size()) >= min_clients_) return live;
    if (stop_) return std::nullopt;
    if (Clock::now() - last_note > std::chrono::seconds(10)) {
      spdlog::info("round {}: waiting for sites ({} connected, deploy.min_clients = {})", round, live.size(),
                   min_clients_);
      last_note = Clock::now();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

RoundOutcome DeployedSites::collect(const ServerMessage& message, const std::vector<std::int64_t>& participants,
                                    UpdateIntake& intake, std::string& why) {
  const std::int64_t round = message.round;
  const auto opened = Clock::now();
  const std::string sent_model = parameterBytes(message.global);
  audit_.recordModel(round, "sent", sha256Hex(sent_model), static_cast<std::int64_t>(sent_model.size()));
  coordinator_.openRound(participants, std::make_shared<const ServerMessage>(message));
  spdlog::info("round {}/{}: sent to {}", round, total_rounds_, fmt::join(siteNames(coordinator_, participants), ", "));

  coordinator_.waitForUpdates(opened + round_deadline_, [&] { return stop_ || audit_.failed(); });
  ClosedRound closed = coordinator_.closeRound();
  if (auto failure = audit_.failure()) throw Error("{}", *failure);
  if (stop_) {
    why = "the server was stopped before the round completed";
    audit_.discardRound(round, why);
    return RoundOutcome::Stop;
  }
  if (!closed.stragglers.empty())
    spdlog::warn("round {}: no update by the deadline from {}; the round goes on without them", round,
                 fmt::join(siteNames(coordinator_, closed.stragglers), ", "));
  if (static_cast<std::int64_t>(closed.updates.size()) < min_updates_) {
    spdlog::warn("round {}: {} update(s), fewer than deploy.min_updates = {}; the round is run again", round,
                 closed.updates.size(), min_updates_);
    why = "too few updates by the deadline; the round was run again";
    audit_.discardRound(round, why);
    return RoundOutcome::RunAgain;
  }
  // Refusals in client order, as the simulator reports them, whatever order they arrived in.
  std::stable_sort(closed.rejected.begin(), closed.rejected.end(),
                   [](const RejectedUpdate& a, const RejectedUpdate& b) { return a.client < b.client; });
  for (RejectedUpdate& refused : closed.rejected) intake.refuse(refused.client, std::move(refused.reason));
  for (ClientUpdate& update : closed.updates) {
    const Site site = coordinator_.site(update.client);
    intake.accept(std::move(update), site.train_size, site.test_size);
  }
  return RoundOutcome::Collected;
}

void DeployedSites::complete(RoundRecord& record, const torch::Tensor& global) {
  const std::string model_bytes = parameterBytes(global);
  const std::string model_sha = sha256Hex(model_bytes);
  audit_.recordModel(record.round, "aggregated", model_sha, static_cast<std::int64_t>(model_bytes.size()));
  audit_.applyRound(record.round, model_sha);
}

}  // namespace pagefl::net
