#include "pagefl/dashboard/event_log.h"

#include <algorithm>

namespace pagefl::dashboard {

EventLog::EventLog(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

std::int64_t EventLog::append(nlohmann::json event) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  std::int64_t seq = 0;
  {
    std::lock_guard lock(mutex_);
    seq = next_++;
    event["seq"] = seq;
    event["at"] = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
    events_.push_back({seq, event.dump()});
    if (events_.size() > capacity_) events_.pop_front();
  }
  appended_.notify_all();
  return seq;
}

std::vector<NumberedEvent> EventLog::after(std::int64_t after, std::size_t limit, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  appended_.wait_for(lock, timeout, [&] { return closed_ || next_ - 1 > after; });
  std::vector<NumberedEvent> out;
  if (closed_ || events_.empty()) return out;
  // Events are numbered consecutively, so the first one wanted is found by arithmetic.
  const std::int64_t first = std::max(after + 1, events_.front().seq);
  for (std::size_t i = static_cast<std::size_t>(first - events_.front().seq); i < events_.size() && out.size() < limit;
       ++i)
    out.push_back(events_[i]);
  return out;
}

std::int64_t EventLog::oldestKept() const {
  std::lock_guard lock(mutex_);
  return events_.empty() ? next_ : events_.front().seq;
}

std::int64_t EventLog::newest() const {
  std::lock_guard lock(mutex_);
  return next_ - 1;
}

void EventLog::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  appended_.notify_all();
}

bool EventLog::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

}  // namespace pagefl::dashboard
