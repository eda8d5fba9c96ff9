// Protobuf's own log lines (one per string field of invalid UTF-8 that it parses, for example),
// routed to spdlog with a rate limit, so that a hostile peer cannot flood the log.
#pragma once

#include <chrono>
#include <cstdint>

namespace pagefl::net {

// Admits at most `limit` lines per minute of the time it is given (injected, for tests).
class LineRateLimiter {
 public:
  explicit LineRateLimiter(std::int64_t limit) : limit_(limit) {}

  struct Verdict {
    bool emit;
    std::int64_t suppressed_before;  // lines dropped in the minute that this one closed, if any
  };
  Verdict admit(std::chrono::steady_clock::time_point now);

 private:
  std::int64_t limit_;
  std::chrono::steady_clock::time_point window_start_{};
  bool started_ = false;
  std::int64_t in_window_ = 0, suppressed_ = 0;
};

// Installs the handler for the whole process; call once at start-up, before any RPC.
void routeProtobufLogsToSpdlog();

}  // namespace pagefl::net
