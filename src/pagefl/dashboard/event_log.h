// What the dashboard's pages follow: every event of the runs it watches, as JSON, numbered from 1.
// The round engine's thread appends (cheap: one JSON object under a lock) and never waits on a
// browser; each browser's stream reads from its own position on its own thread. Only the newest
// `capacity` events are kept, so a dashboard left open for a 1,000-round deployment stays small;
// a page that fell behind further is told so and resynchronises from what is kept.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pagefl::dashboard {

struct NumberedEvent {
  std::int64_t seq = 0;
  std::string json;  // serialised once, sent to every browser as is
};

class EventLog {
 public:
  explicit EventLog(std::size_t capacity = 100000);

  // Stamps the event with its number ("seq") and the wall time ("at", ms since the epoch).
  std::int64_t append(nlohmann::json event);

  // Events numbered above `after`, at most `limit`; waits up to `timeout` for one when there are
  // none. Returns at once, empty, after close().
  std::vector<NumberedEvent> after(std::int64_t after, std::size_t limit, std::chrono::milliseconds timeout);
  std::int64_t oldestKept() const;
  std::int64_t newest() const;

  // Wakes every waiting reader for good (the dashboard is shutting down).
  void close();
  bool closed() const;

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable appended_;
  std::deque<NumberedEvent> events_;
  std::int64_t next_ = 1;
  bool closed_ = false;
};

}  // namespace pagefl::dashboard
