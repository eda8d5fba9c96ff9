// A server-wide bound on the bytes of uploads buffered at once (deploy.max_buffered_mb): each
// stream reserves what its header declares before any data is kept, so that many concurrent
// streams, each within deploy.max_update_mb, cannot together exhaust the server's memory.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>

namespace pagefl::net {

class UploadBudget {
 public:
  explicit UploadBudget(std::int64_t limit_bytes) : limit_(limit_bytes) {}

  // Gives back its bytes when destroyed.
  class Reservation {
   public:
    Reservation() = default;
    Reservation(UploadBudget* budget, std::int64_t bytes) : budget_(budget), bytes_(bytes) {}
    Reservation(Reservation&& other) noexcept { *this = std::move(other); }
    Reservation& operator=(Reservation&& other) noexcept;
    ~Reservation() { release(); }
    bool held() const { return budget_ != nullptr; }

   private:
    void release();
    UploadBudget* budget_ = nullptr;
    std::int64_t bytes_ = 0;
  };

  // A reservation of `bytes`, or nothing when it would take the total over the limit.
  std::optional<Reservation> tryReserve(std::int64_t bytes);
  std::int64_t used() const;
  std::int64_t limit() const { return limit_; }

 private:
  void give(std::int64_t bytes);

  mutable std::mutex mutex_;
  std::int64_t limit_;
  std::int64_t used_ = 0;
};

}  // namespace pagefl::net
