#include "pagefl/net/protobuf_log.h"

#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <string>

namespace pagefl::net {
namespace {

// At most this many protobuf lines a minute; the rest are counted and reported once.
constexpr std::int64_t kLinesPerMinute = 10;

void rateLimited(google::protobuf::LogLevel level, const char* file, int line, const std::string& message) {
  static std::mutex mutex;
  static LineRateLimiter limiter(kLinesPerMinute);
  const std::lock_guard<std::mutex> lock(mutex);
  const LineRateLimiter::Verdict verdict = limiter.admit(std::chrono::steady_clock::now());
  if (verdict.suppressed_before > 0)
    spdlog::warn("protobuf: {} more log lines suppressed in the last minute", verdict.suppressed_before);
  if (!verdict.emit) return;
  if (level >= google::protobuf::LOGLEVEL_ERROR) {
    spdlog::error("protobuf ({}:{}): {}", file, line, message);
  } else {
    spdlog::warn("protobuf ({}:{}): {}", file, line, message);
  }
}

}  // namespace

LineRateLimiter::Verdict LineRateLimiter::admit(std::chrono::steady_clock::time_point now) {
  Verdict verdict{true, 0};
  if (!started_ || now - window_start_ >= std::chrono::minutes(1)) {
    verdict.suppressed_before = suppressed_;
    window_start_ = now, started_ = true, in_window_ = 0, suppressed_ = 0;
  }
  if (++in_window_ > limit_) {
    ++suppressed_;
    verdict.emit = false;
  }
  return verdict;
}

void routeProtobufLogsToSpdlog() { google::protobuf::SetLogHandler(&rateLimited); }

}  // namespace pagefl::net
