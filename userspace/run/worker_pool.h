// Runs blocking work off the supervisor's event loop. Submit(work, done) runs `work` on one of a
// few long-lived threads and `done` afterwards on the loop's thread, from RunCompletions(), which
// the loop calls when fd() is readable. The supervisor spawns triggered voids this way: its loop
// no longer waits for each void to reach execve (the child's set-up, and a v1 cgroup join's RCU
// grace period, take from a fraction of a millisecond to several), so it keeps accepting requests
// and reaping handlers while voids are being set up, several at once.
//
// The threads are the parents of what `work` clones, and PR_SET_PDEATHSIG follows the thread
// that cloned: they live until the pool is destroyed, which must come after every such child is
// reaped. Threads inherit the creating thread's capabilities and signal mask, so create the pool
// once both are final (privileges dropped, loop signals blocked).
#pragma once

#include <pthread.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace shim::run {

class WorkerPool {
 public:
  // `threads` >= 1.
  static absl::StatusOr<std::unique_ptr<WorkerPool>> Start(unsigned threads);

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  // Lets the threads finish the work already queued, then joins them; completions not yet run
  // are dropped. Call Drain() first to have them run.
  ~WorkerPool();

  // Loop thread only. `work` must not touch what the loop thread uses meanwhile; `done` runs on
  // the loop thread.
  void Submit(std::function<void()> work, std::function<void()> done);

  // An eventfd, readable while completions wait to run.
  int fd() const { return event_fd_.get(); }

  // Runs the `done` of every job whose work has finished, in finishing order; returns how many.
  size_t RunCompletions();

  // Submitted jobs whose `done` has not run yet.
  size_t pending() const { return pending_; }

  size_t threads() const { return threads_.size(); }

  // Waits until every submitted job has finished and runs their completions.
  void Drain();

 private:
  explicit WorkerPool(UniqueFd event_fd) : event_fd_(std::move(event_fd)) {}
  void ThreadMain();

  struct Job {
    std::function<void()> work;
    std::function<void()> done;
  };

  UniqueFd event_fd_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> queue_;                       // guarded by mu_
  std::deque<std::function<void()>> finished_;  // guarded by mu_
  bool stopping_ = false;                       // guarded by mu_
  size_t pending_ = 0;                          // loop thread only
  std::vector<pthread_t> threads_;
};

}  // namespace shim::run
