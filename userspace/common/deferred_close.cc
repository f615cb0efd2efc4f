#include "common/deferred_close.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

namespace shim {
namespace {

class Closer {
 public:
  static Closer& Get() {
    // Never destroyed: the thread may still be closing when static destructors run at exit.
    static Closer* closer = new Closer;
    return *closer;
  }

  void Queue(int fd) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(fd);
      ++queued_;
      if (!started_) {
        started_ = true;
        std::thread([this] { Run(); }).detach();
      }
    }
    wake_.notify_one();
  }

  void Flush() {
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t target = queued_;
    done_cv_.wait(lock, [&] { return closed_ >= target; });
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      wake_.wait(lock, [&] { return !queue_.empty(); });
      const int fd = queue_.front();
      queue_.pop_front();
      lock.unlock();
      ::close(fd);
      lock.lock();
      ++closed_;
      done_cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_, done_cv_;
  std::deque<int> queue_;
  uint64_t queued_ = 0, closed_ = 0;
  bool started_ = false;
};

}  // namespace

void CloseLater(UniqueFd fd) {
  if (fd) Closer::Get().Queue(fd.release());
}

void CloseLater(std::vector<UniqueFd>& fds) {
  for (UniqueFd& fd : fds) CloseLater(std::move(fd));
  fds.clear();
}

void DiscardForeign(std::vector<UniqueFd>& fds) {
  for (UniqueFd& fd : fds) {
    struct stat st;
    if (fd && fstat(fd.get(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      const struct linger off = {0, 0};
      (void)setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &off, sizeof off);
    }
  }
  CloseLater(fds);
}

void FlushDeferredCloses() { Closer::Get().Flush(); }

}  // namespace shim
