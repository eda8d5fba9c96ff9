#include "pagefl/net/shutdown_signals.h"

namespace pagefl::net {
namespace {

// A handler rather than sigwait(): BLAS starts its threads before main(), with the signals
// unblocked, and any of them may take one.
std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void requestStop(int) { stop_requested = true; }

}  // namespace

ShutdownSignals::ShutdownSignals() : stop(stop_requested) {
  struct sigaction action {};
  action.sa_handler = requestStop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous_int_);
  sigaction(SIGTERM, &action, &previous_term_);
}

ShutdownSignals::~ShutdownSignals() {
  sigaction(SIGINT, &previous_int_, nullptr);
  sigaction(SIGTERM, &previous_term_, nullptr);
}

}  // namespace pagefl::net
