// How the deployed server's round engine reaches its sites: the round's message goes out through
// the coordinator (sites fetch it over gRPC), updates come back checked by the service, and every
// model sent or built is written to the audit log. A round without enough updates by its deadline
// yields no model and is run again.
#pragma once

#include <atomic>
#include <chrono>

#include "pagefl/core/config.h"
#include "pagefl/engine/round_engine.h"
#include "pagefl/net/audit_log.h"
#include "pagefl/net/round_coordinator.h"

namespace pagefl::net {

class DeployedSites final : public ClientReach {
 public:
  // `stop` is the flag SIGINT and SIGTERM set.
  DeployedSites(const Config& config, RoundCoordinator& coordinator, AuditLog& audit, const std::atomic<bool>& stop);

  std::optional<std::vector<std::int64_t>> candidates(std::int64_t round) override;
  RoundOutcome collect(const ServerMessage& message, const std::vector<std::int64_t>& participants,
                       UpdateIntake& intake, std::string& why) override;
  void reconfigure(const Config& settings) override;
  void complete(RoundRecord& record, const torch::Tensor& global) override;
  bool interrupted() const override { return stop_; }

 private:
  std::int64_t total_rounds_, min_clients_, min_updates_;
  std::chrono::milliseconds round_deadline_;
  RoundCoordinator& coordinator_;
  AuditLog& audit_;
  const std::atomic<bool>& stop_;
};

// The names of `clients`, for the log.
std::vector<std::string> siteNames(const RoundCoordinator& coordinator, const std::vector<std::int64_t>& clients);

}  // namespace pagefl::net
