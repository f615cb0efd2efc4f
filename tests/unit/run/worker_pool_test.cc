#include "run/worker_pool.h"

#include <poll.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace shim::run {
namespace {

bool Readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

TEST(WorkerPoolTest, RefusesZeroThreads) { EXPECT_FALSE(WorkerPool::Start(0).ok()); }

TEST(WorkerPoolTest, WorkRunsOffTheLoopThreadAndDoneRunsOnIt) {
  auto pool = WorkerPool::Start(2);
  ASSERT_TRUE(pool.ok()) << pool.status();
  const pthread_t loop = pthread_self();
  bool work_on_loop = true, done_on_loop = false;
  (*pool)->Submit([&] { work_on_loop = pthread_equal(pthread_self(), loop); },
                  [&] { done_on_loop = pthread_equal(pthread_self(), loop); });
  EXPECT_EQ((*pool)->pending(), 1u);
  ASSERT_TRUE(Readable((*pool)->fd(), 10000)) << "the eventfd never became readable";
  EXPECT_EQ((*pool)->RunCompletions(), 1u);
  EXPECT_FALSE(work_on_loop);
  EXPECT_TRUE(done_on_loop);
  EXPECT_EQ((*pool)->pending(), 0u);
  // Nothing more to run: the eventfd was reset.
  EXPECT_FALSE(Readable((*pool)->fd(), 0));
  EXPECT_EQ((*pool)->RunCompletions(), 0u);
}

TEST(WorkerPoolTest, JobsRunConcurrentlyOnEveryThread) {
  auto pool = WorkerPool::Start(3);
  ASSERT_TRUE(pool.ok()) << pool.status();
  // Three jobs that each wait until all three have started: they finish only if three threads
  // run them at once.
  std::atomic<int> started{0};
  std::atomic<int> timed_out{0};
  int done = 0;
  for (int i = 0; i < 3; ++i) {
    (*pool)->Submit(
        [&] {
          ++started;
          const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
          while (started.load() < 3) {
            if (std::chrono::steady_clock::now() > deadline) {
              ++timed_out;
              return;
            }
            std::this_thread::yield();
          }
        },
        [&] { ++done; });
  }
  (*pool)->Drain();
  EXPECT_EQ(done, 3);
  EXPECT_EQ(timed_out.load(), 0);
  EXPECT_EQ((*pool)->pending(), 0u);
}

TEST(WorkerPoolTest, DrainRunsEveryCompletionIncludingOnesSubmittedByCompletions) {
  auto pool = WorkerPool::Start(2);
  ASSERT_TRUE(pool.ok()) << pool.status();
  std::vector<int> order;
  for (int i = 0; i < 50; ++i) {
    (*pool)->Submit([] {}, [&order, i] { order.push_back(i); });
  }
  (*pool)->Drain();
  ASSERT_EQ(order.size(), 50u);
  EXPECT_EQ(std::set<int>(order.begin(), order.end()).size(), 50u);
  // A completion may submit more work; Drain waits for that too.
  int chained = 0;
  WorkerPool* p = pool->get();
  p->Submit([] {}, [&] { p->Submit([] {}, [&] { ++chained; }); });
  p->Drain();
  EXPECT_EQ(chained, 1);
}

TEST(WorkerPoolTest, DestructionFinishesQueuedWorkAndJoins) {
  std::atomic<int> ran{0};
  {
    auto pool = WorkerPool::Start(1);
    ASSERT_TRUE(pool.ok()) << pool.status();
    for (int i = 0; i < 20; ++i) (*pool)->Submit([&] { ++ran; }, [] {});
  }
  EXPECT_EQ(ran.load(), 20);
}

}  // namespace
}  // namespace shim::run
