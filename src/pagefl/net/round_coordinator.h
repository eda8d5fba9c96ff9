// What the server's round loop and its transport handlers share: the registry of sites, the open
// round (its participants, its message, the updates accepted so far) and the run's end. The
// loop opens and closes rounds; handlers hand out work and take updates, from many threads. It
// speaks pagefl's own types: the gRPC service (federation_service.h) maps them to the wire, and
// tests drive it directly, with an injected clock.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pagefl/engine/round_record.h"
#include "pagefl/fl/messages.h"

namespace pagefl::net {

using Clock = std::chrono::steady_clock;

struct Site {
  std::string name;
  bool joined = false;
  std::int64_t train_size = 0, test_size = 0;
  Clock::time_point last_seen = {};
};

enum class Work { Wait, Train, Done };

struct Assignment {
  Work work = Work::Wait;
  std::shared_ptr<const ServerMessage> message;  // Train only
  std::string note;                              // Wait and Done: why
};

struct ClosedRound {
  std::vector<ClientUpdate> updates;         // accepted, by client index
  std::vector<std::int64_t> stragglers;      // participants without an accepted update
  std::vector<RejectedUpdate> rejected;
};

class RoundCoordinator {
 public:
  using Now = std::function<Clock::time_point()>;
  // `now` tells the time (tests pass a clock they move by hand).
  RoundCoordinator(const std::vector<std::string>& names, std::chrono::milliseconds client_timeout,
                   Now now = Clock::now);

  std::optional<std::int64_t> indexOf(const std::string& name) const;
  void join(std::int64_t client, std::int64_t train_size, std::int64_t test_size);
  bool hasJoined(std::int64_t client) const;
  Site site(std::int64_t client) const;
  // Joined clients heard from within the client timeout, by index.
  std::vector<std::int64_t> liveClients() const;

  // The round loop.
  // Updates are judged against the model `message` carries.
  void openRound(std::vector<std::int64_t> participants, std::shared_ptr<const ServerMessage> message);
  // The global model of `round` while it is open; undefined otherwise.
  torch::Tensor globalOf(std::int64_t round) const;
  // Returns once every participant has an accepted update, at `deadline`, or when `stop()`
  // says so (it is asked every 200 ms; the deadline is checked as often).
  void waitForUpdates(Clock::time_point deadline, const std::function<bool()>& stop);
  // Waits for updates still being accepted (their audit writes), then closes the round.
  ClosedRound closeRound();
  void finish();

  // The handlers. fetch() waits up to `patience` for work before answering WAIT.
  Assignment fetch(std::int64_t client, std::chrono::milliseconds patience);
  // Takes a sound update for the open round, calling `on_accept` before the round loop can see
  // it (so the audit log records it before the round is aggregated); returns why it is refused
  // otherwise. `on_accept` runs outside the coordinator's lock, so a slow audit write stalls no
  // other site; the update is held as pending meanwhile, and the round does not close without
  // it. When `on_accept` throws, the update is dropped and the exception passes on.
  std::optional<std::string> offer(ClientUpdate update, const std::function<void()>& on_accept);
  // Notes a refused update in the open round's record (when it is for the open round). The site
  // is then not offered the round again: resending what was refused would loop.
  void noteRejected(std::int64_t client, std::int64_t round, const std::string& reason);

 private:
  bool allSubmitted() const;
  bool isParticipant(std::int64_t client) const;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Site> sites_;
  std::map<std::string, std::int64_t> index_;
  std::chrono::milliseconds client_timeout_;
  Now now_;

  std::int64_t round_ = 0;
  bool open_ = false, done_ = false;
  std::vector<std::int64_t> participants_;
  std::shared_ptr<const ServerMessage> message_;
  std::map<std::int64_t, ClientUpdate> accepted_;
  std::set<std::int64_t> pending_;  // being accepted: their audit writes are under way
  std::set<std::int64_t> closed_accepted_;  // of the round last closed, to name a late duplicate
  std::vector<RejectedUpdate> rejected_;
  std::set<std::int64_t> refused_;  // of the open round: not offered it again
};

}  // namespace pagefl::net
