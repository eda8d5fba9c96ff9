// W worker threads, each owning one model replica. Tasks are indices; each result goes to its
// own slot, so what a run computes does not depend on which worker ran which task. The threads
// start once with the pool and wait between calls, so a round costs no thread start-up.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "pagefl/nn/flat_model.h"

namespace pagefl {

class WorkerPool {
 public:
  WorkerPool(std::int64_t workers, const std::function<std::unique_ptr<FlatModel>()>& make_replica);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  std::int64_t size() const { return static_cast<std::int64_t>(replicas_.size()); }
  FlatModel& replica(std::int64_t worker) { return *replicas_[worker]; }

  // Runs task(i, replica) for i in [0, count) across the workers and waits; the calling thread
  // works as worker 0. The first exception a task throws stops the hand-out of further tasks and
  // is rethrown here. Calls from several threads run one after another; a task must not call
  // forEach on its own pool (that throws std::logic_error rather than deadlock).
  void forEach(std::int64_t count, const std::function<void(std::int64_t, FlatModel&)>& task);

 private:
  void workLoop(std::int64_t worker);
  void drain(std::int64_t worker);

  std::vector<std::unique_ptr<FlatModel>> replicas_;
  std::vector<std::thread> threads_;

  std::mutex call_mutex_;  // one call at a time
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::uint64_t generation_ = 0;   // bumped for every call, so sleeping workers see new work
  std::int64_t busy_ = 0;          // helper threads still working on the current call
  bool stopping_ = false;

  // The current call, valid while busy_ > 0 or the caller is working.
  const std::function<void(std::int64_t, FlatModel&)>* task_ = nullptr;
  std::int64_t count_ = 0;
  std::int64_t next_ = 0;
  std::exception_ptr failure_;
};

}  // namespace pagefl
