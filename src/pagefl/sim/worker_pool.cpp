#include "pagefl/sim/worker_pool.h"

#include <torch/torch.h>

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace pagefl {

WorkerPool::WorkerPool(std::int64_t workers, const std::function<std::unique_ptr<FlatModel>()>& make_replica) {
  for (std::int64_t w = 0; w < workers; ++w) replicas_.push_back(make_replica());
}

void WorkerPool::forEach(std::int64_t count, const std::function<void(std::int64_t, FlatModel&)>& task) {
  std::atomic<std::int64_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto work = [&](std::int64_t worker) {
    for (std::int64_t i = next++; i < count; i = next++) {
      try {
        task(i, *replicas_[worker]);
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next = count;
      }
    }
  };
  const std::int64_t active = std::min<std::int64_t>(size(), count);
  std::vector<std::thread> threads;
  for (std::int64_t w = 1; w < active; ++w) threads.emplace_back(work, w);
  if (active > 0) work(0);  // the calling thread is worker 0
  for (auto& thread : threads) thread.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace pagefl
