#include "pagefl/net/round_coordinator.h"

#include <fmt/format.h>

#include <algorithm>

#include "pagefl/core/error.h"

namespace pagefl::net {

RoundCoordinator::RoundCoordinator(const std::vector<std::string>& names, std::chrono::milliseconds client_timeout,
                                   Now now)
    : client_timeout_(client_timeout), now_(std::move(now)) {
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
  site.last_seen = now_();
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
  const auto now = now_();
  for (std::size_t c = 0; c < sites_.size(); ++c)
    if (sites_[c].joined && now - sites_[c].last_seen <= client_timeout_) live.push_back(static_cast<std::int64_t>(c));
  return live;
}

void RoundCoordinator::openRound(std::vector<std::int64_t> participants, std::shared_ptr<const ServerMessage> message) {
  std::lock_guard lock(mutex_);
  round_ = message->round;
  participants_ = std::move(participants);
  std::sort(participants_.begin(), participants_.end());
  message_ = std::move(message);
  accepted_.clear();
  rejected_.clear();
  refused_.clear();
  open_ = true;
  changed_.notify_all();
}

torch::Tensor RoundCoordinator::globalOf(std::int64_t round) const {
  std::lock_guard lock(mutex_);
  return open_ && round == round_ ? message_->global : torch::Tensor();
}

bool RoundCoordinator::allSubmitted() const { return accepted_.size() == participants_.size(); }

bool RoundCoordinator::isParticipant(std::int64_t client) const {
  return std::binary_search(participants_.begin(), participants_.end(), client);
}

void RoundCoordinator::waitForUpdates(Clock::time_point deadline, const std::function<bool()>& stop) {
  std::unique_lock lock(mutex_);
  constexpr auto kPoll = std::chrono::milliseconds(200);
  for (auto now = now_(); !allSubmitted() && !stop() && now < deadline; now = now_())
    changed_.wait_for(lock, std::min<Clock::duration>(deadline - now, kPoll));
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
  // Patience is real waiting time, whatever `now_` says: it paces a site's polling.
  const auto until = std::chrono::steady_clock::now() + patience;
  for (;;) {
    sites_[static_cast<std::size_t>(client)].last_seen = now_();
    if (done_) return {Work::Done, nullptr, "the run is complete"};
    if (open_ && isParticipant(client) && !accepted_.count(client) && !refused_.count(client))
      return {Work::Train, message_, ""};
    if (std::chrono::steady_clock::now() >= until) break;
    changed_.wait_until(lock, until);
  }
  if (!open_) return {Work::Wait, nullptr, "the server is between rounds"};
  if (!isParticipant(client)) return {Work::Wait, nullptr, fmt::format("round {} runs without this site", round_)};
  if (refused_.count(client))
    return {Work::Wait, nullptr, fmt::format("this site's round-{} update was refused; waiting for the next round", round_)};
  return {Work::Wait, nullptr, fmt::format("this site's round-{} update is in; waiting for the next round", round_)};
}

std::optional<std::string> RoundCoordinator::offer(ClientUpdate update, const std::function<void()>& on_accept) {
  const std::int64_t client = update.client;
  {
    std::lock_guard lock(mutex_);
    sites_[static_cast<std::size_t>(client)].last_seen = now_();
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
