// W worker threads, each owning one model replica. Tasks are indices; each result goes to its
// own slot, so what a run computes does not depend on which worker ran which task.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "pagefl/nn/flat_model.h"

namespace pagefl {

class WorkerPool {
 public:
  WorkerPool(std::int64_t workers, const std::function<std::unique_ptr<FlatModel>()>& make_replica);

  std::int64_t size() const { return static_cast<std::int64_t>(replicas_.size()); }
  FlatModel& replica(std::int64_t worker) { return *replicas_[worker]; }

  // Runs task(i, replica) for i in [0, count) across the workers and waits. The first exception
  // a task throws stops the hand-out of further tasks and is rethrown here.
  void forEach(std::int64_t count, const std::function<void(std::int64_t, FlatModel&)>& task);

 private:
  std::vector<std::unique_ptr<FlatModel>> replicas_;
};

}  // namespace pagefl
