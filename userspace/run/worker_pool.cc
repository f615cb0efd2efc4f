#include "run/worker_pool.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <utility>

#include "common/errno_status.h"

namespace shim::run {

absl::StatusOr<std::unique_ptr<WorkerPool>> WorkerPool::Start(unsigned threads) {
  if (threads == 0) return absl::InvalidArgumentError("a worker pool needs at least one thread");
  UniqueFd event_fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!event_fd) return ErrnoStatus("eventfd for the spawn workers");
  std::unique_ptr<WorkerPool> pool(new WorkerPool(std::move(event_fd)));
  for (unsigned i = 0; i < threads; ++i) {
    // pthread_create rather than std::thread: a failure is an error to report, not an exception.
    pthread_t thread;
    auto* self = pool.get();
    const int rc = pthread_create(
        &thread, nullptr,
        [](void* arg) -> void* {
          static_cast<WorkerPool*>(arg)->ThreadMain();
          return nullptr;
        },
        self);
    if (rc != 0) return ErrnoStatus("start a spawn worker thread", rc);
    pool->threads_.push_back(thread);
  }
  return pool;
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (pthread_t thread : threads_) pthread_join(thread, nullptr);
}

void WorkerPool::ThreadMain() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to do
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job.work();
    {
      std::lock_guard<std::mutex> lock(mu_);
      finished_.push_back(std::move(job.done));
    }
    const uint64_t one = 1;
    // Cannot fail short of a bug: the counter would have to reach 2^64 - 1.
    (void)!write(event_fd_.get(), &one, sizeof(one));
  }
}

void WorkerPool::Submit(std::function<void()> work, std::function<void()> done) {
  ++pending_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(Job{std::move(work), std::move(done)});
  }
  wake_.notify_one();
}

size_t WorkerPool::RunCompletions() {
  uint64_t count;
  (void)!read(event_fd_.get(), &count, sizeof(count));  // resets it; EAGAIN when nothing came
  std::deque<std::function<void()>> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    finished.swap(finished_);
  }
  for (std::function<void()>& done : finished) {
    --pending_;
    done();
  }
  return finished.size();
}

void WorkerPool::Drain() {
  while (pending_ > 0) {
    pollfd p{event_fd_.get(), POLLIN, 0};
    if (poll(&p, 1, -1) < 0 && errno != EINTR) return;
    RunCompletions();
  }
}

}  // namespace shim::run
