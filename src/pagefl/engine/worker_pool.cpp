#include "pagefl/engine/worker_pool.h"

#include <stdexcept>
#include <utility>

namespace pagefl {
namespace {

// The pool whose task this thread is running, to refuse a nested call instead of deadlocking.
thread_local const WorkerPool* working_for = nullptr;

struct WorkingFor {
  explicit WorkingFor(const WorkerPool* pool) : previous(std::exchange(working_for, pool)) {}
  ~WorkingFor() { working_for = previous; }
  const WorkerPool* previous;
};

}  // namespace

WorkerPool::WorkerPool(std::int64_t workers, const std::function<std::unique_ptr<FlatModel>()>& make_replica) {
  for (std::int64_t w = 0; w < workers; ++w) replicas_.push_back(make_replica());
  for (std::int64_t w = 1; w < workers; ++w) threads_.emplace_back([this, w] { workLoop(w); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
}

// Takes indices until none is left; the lock is held only to hand out an index.
void WorkerPool::drain(std::int64_t worker) {
  const WorkingFor marker(this);
  std::unique_lock lock(mutex_);
  while (next_ < count_) {
    const std::int64_t i = next_++;
    lock.unlock();
    try {
      (*task_)(i, *replicas_[worker]);
    } catch (...) {
      lock.lock();
      if (!failure_) failure_ = std::current_exception();
      next_ = count_;
      continue;
    }
    lock.lock();
  }
}

void WorkerPool::workLoop(std::int64_t worker) {
  std::uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    drain(worker);
    std::lock_guard lock(mutex_);
    if (--busy_ == 0) done_.notify_one();
  }
}

void WorkerPool::forEach(std::int64_t count, const std::function<void(std::int64_t, FlatModel&)>& task) {
  if (count <= 0) return;
  if (working_for == this) throw std::logic_error("WorkerPool::forEach called from inside one of its own tasks");
  std::lock_guard call(call_mutex_);
  {
    std::lock_guard lock(mutex_);
    task_ = &task;
    count_ = count;
    next_ = 0;
    failure_ = nullptr;
    busy_ = static_cast<std::int64_t>(threads_.size());
    ++generation_;
  }
  wake_.notify_all();
  drain(0);
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return busy_ == 0; });
  task_ = nullptr;
  if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
}

}  // namespace pagefl
