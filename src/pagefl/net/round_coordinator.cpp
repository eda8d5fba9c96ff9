#include "pagefl/net/round_coordinator.h"

#include <fmt/format.h>

#include <algorithm>

#include "pagefl/core/error.h"

namespace pagefl::net {

RoundCoordinator::RoundCoordinator(const std::vector<std::string>& names, std::chrono::milliseconds client_timeout)
    : client_timeout_(client_timeout) {
  for (const std::string& name : names) {
    if (index_.count(name)) throw Error("deploy.clients names '{}' twice; each site needs its own name", name);
    index_[name] = static_cast<std::int64_t>(sites_.size());
    sites_.push_back({name});
  }
}

std::optional<std::int64_t> RoundCoordinator::indexOf(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

void RoundCoordinator::join(std::int64_t client, std::int64_t train_size, std::int64_t test_size) {
  std::lock_guard lock(mutex_);
  Site& site = sites_[static_cast<std::size_t>(client)];
  site.joined = true;
  site.train_size = train_size;
  site.test_size = test_size;
  site.last_seen = Clock::now();
  changed_.notify_all();
}

bool RoundCoordinator::hasJoined(std::int64_t client) const {
  std::lock_guard lock(mutex_);
  return sites_[static_cast<std::size_t>(client)].joined;
}

Site RoundCoordinator::site(std::int64_t client) const {
  std::lock_guard lock(mutex_);
  return sites_[static_cast<std::size_t>(client)];
}

std::vector<std::int64_t> RoundCoordinator::liveClients() const {
  std::lock_guard lock(mutex_);
  std::vector<std::int64_t> live;
  const auto now = Clock::now();
  for (std::size_t c = 0; c < sites_.size(); ++c)
    if (sites_[c].joined && now - sites_[c].last_seen <= client_timeout_) live.push_back(static_cast<std::int64_t>(c));
  return live;
}

void RoundCoordinator::openRound(std::int64_t round, std::vector<std::int64_t> participants,
                                 std::shared_ptr<const WireMessage> message, torch::Tensor global) {
  std::lock_guard lock(mutex_);
  round_ = round;
  participants_ = std::move(participants);
  message_ = std::move(message);
  global_ = std::move(global);
  accepted_.clear();
  rejected_.clear();
  refused_.clear();
  open_ = true;
  changed_.notify_all();
}

torch::Tensor RoundCoordinator::globalOf(std::int64_t round) const {
  std::lock_guard lock(mutex_);
  return open_ && round == round_ ? global_ : torch::Tensor();
}

bool RoundCoordinator::allSubmitted() const { return accepted_.size() == participants_.size(); }

bool RoundCoordinator::isParticipant(std::int64_t client) const {
  return std::binary_search(participants_.begin(), participants_.end(), client);
}

void RoundCoordinator::waitForUpdates(Clock::time_point deadline, const std::function<bool()>& stop) {
  std::unique_lock lock(mutex_);
  while (!allSubmitted() && !stop() && Clock::now() < deadline)
    changed_.wait_until(lock, std::min(deadline, Clock::now() + std::chrono::milliseconds(200)));
}

ClosedRound RoundCoordinator::closeRound() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return pending_.empty(); });
  open_ = false;
  ClosedRound closed;
  for (std::int64_t client : participants_)
    if (!accepted_.count(client)) closed.stragglers.push_back(client);
  closed_accepted_.clear();
  for (auto& [client, update] : accepted_) closed.updates.push_back(std::move(update)), closed_accepted_.insert(client);
  closed.rejected = std::move(rejected_);
  accepted_.clear();
  rejected_.clear();
  changed_.notify_all();
  return closed;
}

void RoundCoordinator::finish() {
  std::lock_guard lock(mutex_);
  open_ = false;
  done_ = true;
  changed_.notify_all();
}

Assignment RoundCoordinator::fetch(std::int64_t client, std::chrono::milliseconds patience) {
  std::unique_lock lock(mutex_);
  const auto until = Clock::now() + patience;
  for (;;) {
    sites_[static_cast<std::size_t>(client)].last_seen = Clock::now();
    if (done_) return {wire::DONE, nullptr, "the run is complete"};
    if (open_ && isParticipant(client) && !accepted_.count(client) && !refused_.count(client))
      return {wire::TRAIN, message_, ""};
    if (Clock::now() >= until) break;
    changed_.wait_until(lock, until);
  }
  if (!open_) return {wire::WAIT, nullptr, "the server is between rounds"};
  if (!isParticipant(client)) return {wire::WAIT, nullptr, fmt::format("round {} runs without this site", round_)};
  if (refused_.count(client))
    return {wire::WAIT, nullptr, fmt::format("this site's round-{} update was refused; waiting for the next round", round_)};
  return {wire::WAIT, nullptr, fmt::format("this site's round-{} update is in; waiting for the next round", round_)};
}

std::optional<std::string> RoundCoordinator::offer(ClientUpdate update, const std::function<void()>& on_accept) {
  const std::int64_t client = update.client;
  {
    std::lock_guard lock(mutex_);
    sites_[static_cast<std::size_t>(client)].last_seen = Clock::now();
    if (done_) return std::string("the run is complete");
    if (update.round == round_ && (accepted_.count(client) || pending_.count(client) ||
                                   (!open_ && closed_accepted_.count(client))))
      return fmt::format("this site's round-{} update was already accepted", round_);
    if (!open_ || update.round != round_)
      return fmt::format("it is for round {}, but {}", update.round,
                         open_ ? fmt::format("round {} is open", round_)
                               : fmt::format("round {} is closed and the next is not open yet", round_));
    if (!isParticipant(client)) return fmt::format("this site was not sampled for round {}", round_);
    pending_.insert(client);
  }
  try {
    on_accept();
  } catch (...) {
    std::lock_guard lock(mutex_);
    pending_.erase(client);
    changed_.notify_all();
    throw;
  }
  std::lock_guard lock(mutex_);
  pending_.erase(client);
  accepted_[client] = std::move(update);
  changed_.notify_all();
  return std::nullopt;
}

void RoundCoordinator::noteRejected(std::int64_t client, std::int64_t round, const std::string& reason) {
  std::lock_guard lock(mutex_);
  if (open_ && round == round_) rejected_.push_back({client, reason}), refused_.insert(client);
}

}  // namespace pagefl::net
