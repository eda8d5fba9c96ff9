// The persistent worker pool: every index runs once per call, calls reuse the same threads,
// a task's exception reaches the caller, and a nested call is refused instead of deadlocking.
#include "pagefl/engine/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "pagefl/nn/models.h"

namespace pagefl {
namespace {

std::unique_ptr<FlatModel> tinyReplica() { return std::make_unique<FlatModel>(makeNetwork({"logreg", {3}, 2, {}})); }

TEST(WorkerPool, RunsEveryIndexOnceInEveryCallOnTheSameThreads) {
  WorkerPool pool(3, tinyReplica);
  std::mutex mutex;
  std::set<std::thread::id> threads_seen;
  for (int call = 0; call < 200; ++call) {
    std::vector<int> hits(17, 0);
    pool.forEach(17, [&](std::int64_t i, FlatModel&) {
      ++hits[i];
      std::lock_guard lock(mutex);
      threads_seen.insert(std::this_thread::get_id());
    });
    for (int h : hits) ASSERT_EQ(h, 1) << "call " << call;
  }
  // The caller plus at most the two helper threads the pool started, however many calls.
  EXPECT_LE(threads_seen.size(), 3u);
}

TEST(WorkerPool, RethrowsTheFirstFailureAndStaysUsable) {
  WorkerPool pool(2, tinyReplica);
  EXPECT_THROW(pool.forEach(10, [](std::int64_t i, FlatModel&) {
    if (i == 4) throw std::runtime_error("task 4 failed");
  }),
               std::runtime_error);
  std::atomic<int> ran{0};
  pool.forEach(5, [&](std::int64_t, FlatModel&) { ++ran; });
  EXPECT_EQ(ran, 5);
}

TEST(WorkerPool, RefusesANestedCall) {
  WorkerPool pool(2, tinyReplica);
  EXPECT_THROW(pool.forEach(4, [&](std::int64_t, FlatModel&) { pool.forEach(1, [](std::int64_t, FlatModel&) {}); }),
               std::logic_error);
}

TEST(WorkerPool, EachWorkerGetsItsOwnReplica) {
  WorkerPool pool(2, tinyReplica);
  EXPECT_NE(&pool.replica(0), &pool.replica(1));
  std::mutex mutex;
  std::set<const FlatModel*> used;
  pool.forEach(50, [&](std::int64_t, FlatModel& model) {
    std::lock_guard lock(mutex);
    used.insert(&model);
  });
  for (const FlatModel* model : used) EXPECT_TRUE(model == &pool.replica(0) || model == &pool.replica(1));
}

}  // namespace
}  // namespace pagefl
