#include "pagefl/net/upload_budget.h"

#include <malloc.h>

#include <utility>

namespace pagefl::net {

UploadBudget::Reservation& UploadBudget::Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    release();
    budget_ = std::exchange(other.budget_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void UploadBudget::Reservation::release() {
  if (budget_) budget_->give(bytes_);
  budget_ = nullptr;
  bytes_ = 0;
}

std::optional<UploadBudget::Reservation> UploadBudget::tryReserve(std::int64_t bytes) {
  std::lock_guard lock(mutex_);
  if (bytes < 0 || bytes > limit_ - used_) return std::nullopt;
  used_ += bytes;
  return Reservation(this, bytes);
}

std::int64_t UploadBudget::used() const {
  std::lock_guard lock(mutex_);
  return used_;
}

void UploadBudget::give(std::int64_t bytes) {
  std::lock_guard lock(mutex_);
  used_ -= bytes;
  // Large uploads come and go; without this, glibc keeps their freed pages and the server's
  // resident size ratchets up to the largest burst it ever buffered.
  if (used_ == 0) malloc_trim(0);
}

}  // namespace pagefl::net
