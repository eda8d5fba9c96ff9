// SIGINT and SIGTERM, while an object of this class lives, set a flag that the server's round loop
// checks, so that it checkpoints and stops cleanly instead of dying mid-write.
#pragma once

#include <signal.h>

#include <atomic>

namespace pagefl::net {

class ShutdownSignals {
 public:
  ShutdownSignals();
  ~ShutdownSignals();
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

  // Set once a signal has arrived.
  const std::atomic<bool>& stop;

 private:
  struct sigaction previous_int_ {}, previous_term_ {};
};

}  // namespace pagefl::net
