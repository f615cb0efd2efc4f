#include "tui/loop.h"

#include <errno.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "common/errno_status.h"
#include "common/status_macros.h"

namespace shim::tui {
namespace {

// How long a lone ESC waits for the rest of an escape sequence before it counts as Esc.
constexpr int kEscapeTimeoutMs = 30;

int64_t ThreadCpuNs() {
  timespec ts;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create(int max_fps) {
  std::unique_ptr<EventLoop> loop(new EventLoop);
  loop->frame_interval_ = std::chrono::nanoseconds(1'000'000'000 / std::clamp(max_fps, 1, 30));
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGWINCH);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  if (::sigprocmask(SIG_BLOCK, &mask, &loop->old_mask_) != 0) {
    return ErrnoStatus("sigprocmask", errno);
  }
  loop->signal_fd_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!loop->signal_fd_) return ErrnoStatus("signalfd", errno);
  loop->timer_fd_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!loop->timer_fd_) return ErrnoStatus("timerfd_create", errno);
  return loop;
}

EventLoop::~EventLoop() { ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr); }

void EventLoop::Watch(int fd, std::function<void()> on_readable) {
  Unwatch(fd);
  watched_.push_back({fd, std::make_shared<std::function<void()>>(std::move(on_readable))});
}

void EventLoop::Unwatch(int fd) {
  std::erase_if(watched_, [fd](const Watched& w) { return w.fd == fd; });
}

void EventLoop::ArmFrame() {
  if (timer_armed_) return;
  const auto now = std::chrono::steady_clock::now();
  auto wait =
      std::chrono::duration_cast<std::chrono::nanoseconds>(last_frame_ + frame_interval_ - now);
  if (wait.count() < 1) wait = std::chrono::nanoseconds(1);  // 0 would disarm
  itimerspec spec = {};
  spec.it_value.tv_sec = wait.count() / 1'000'000'000;
  spec.it_value.tv_nsec = wait.count() % 1'000'000'000;
  ::timerfd_settime(timer_fd_.get(), 0, &spec, nullptr);
  timer_armed_ = true;
}

absl::Status EventLoop::DrawFrame(Runtime& runtime, TtyTerminal& terminal) {
  const int64_t cpu_start = ThreadCpuNs();
  const TermSize size = terminal.Size();
  const bool resized =
      size.width != runtime.screen().width() || size.height != runtime.screen().height();
  // Render again only if state changed since the last (unpainted) render or the size did.
  const Screen& screen =
      runtime.dirty() || resized ? runtime.Frame(size.width, size.height) : runtime.screen();
  terminal.Write(renderer_.Render(screen));
  needs_paint_ = false;
  last_frame_ = std::chrono::steady_clock::now();
  const int64_t cpu = ThreadCpuNs() - cpu_start;
  ++stats_.frames;
  stats_.cpu_ns += cpu;
  if (stats_.samples_ns.size() < max_samples_) stats_.samples_ns.push_back(cpu);
  return absl::OkStatus();
}

absl::Status EventLoop::Run(Runtime& runtime, TtyTerminal& terminal) {
  runtime.scheduler().on_dirty = [this] { ArmFrame(); };
  auto dispatch = [&](const std::vector<Key>& keys) {
    for (const Key& key : keys) {
      if (key.code == KeyCode::kModeReport) {
        // DECRPM for mode 2026: 1 (set) or 2 (reset) means the terminal knows the mode.
        if (key.ch == 2026 && (key.param == 1 || key.param == 2)) {
          renderer_.set_synchronized_output(true);
        }
        continue;
      }
      if (!runtime.DispatchKey(key) && key.IsCtrl('c')) runtime.RequestQuit();
      // A key may change what the next key means (e.g. '/' focuses a search field that exists
      // only after a render), so state is rendered between keys of one read. The terminal is
      // still painted only on the frame clock.
      if (runtime.dirty() && !runtime.quit_requested()) {
        const TermSize size = terminal.Size();
        runtime.Frame(size.width, size.height);
        needs_paint_ = true;
        ArmFrame();
      }
    }
  };
  RETURN_IF_ERROR(DrawFrame(runtime, terminal));
  while (!runtime.quit_requested()) {
    if (runtime.dirty()) ArmFrame();
    std::vector<pollfd> fds = {
        {terminal.in_fd(), POLLIN, 0}, {signal_fd_.get(), POLLIN, 0}, {timer_fd_.get(), POLLIN, 0}};
    const std::vector<Watched> watched = watched_;  // callbacks may change the list
    for (const Watched& w : watched) fds.push_back({w.fd, POLLIN, 0});
    // A lone ESC may be the start of a sequence: it becomes the Escape key once no more bytes
    // came for kEscapeTimeoutMs. Other fds (a live event source, the frame clock) keep waking
    // the loop, so the deadline is kept here rather than relying on poll timing out.
    int timeout_ms = -1;
    if (parser_.has_pending()) {
      const auto waited = std::chrono::steady_clock::now() - escape_pending_since_;
      timeout_ms = std::max<int>(
          0, kEscapeTimeoutMs -
                 static_cast<int>(
                     std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()));
    }
    const int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("poll", errno);
    }
    if (parser_.has_pending() && (n == 0 || timeout_ms == 0)) {
      dispatch(parser_.Flush());
      if (n == 0) continue;
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info;
      while (::read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGWINCH) {
          renderer_.Invalidate();
          runtime.MarkDirty();
        } else {
          quit_signal_ = static_cast<int>(info.ssi_signo);
          runtime.RequestQuit();
        }
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[4096];
      const ssize_t got = ::read(terminal.in_fd(), buf, sizeof buf);
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        runtime.RequestQuit();  // the terminal went away
      } else if (got > 0) {
        const bool was_pending = parser_.has_pending();
        dispatch(parser_.Feed(std::string_view(buf, static_cast<size_t>(got))));
        if (parser_.has_pending() && !was_pending) {
          escape_pending_since_ = std::chrono::steady_clock::now();
        }
      }
    }
    for (size_t i = 0; i < watched.size(); ++i) {
      if (fds[3 + i].revents & (POLLIN | POLLHUP | POLLERR)) {
        // Still watched? (an earlier callback may have removed it)
        const bool live = std::any_of(watched_.begin(), watched_.end(), [&](const Watched& w) {
          return w.callback == watched[i].callback;
        });
        if (live) {
          Runtime::CurrentGuard current(&runtime);
          (*watched[i].callback)();
        }
      }
    }
    if (fds[2].revents & POLLIN) {
      uint64_t expirations;
      (void)!::read(timer_fd_.get(), &expirations, sizeof expirations);
      timer_armed_ = false;
      if ((runtime.dirty() || needs_paint_) && !runtime.quit_requested()) {
        RETURN_IF_ERROR(DrawFrame(runtime, terminal));
      }
    }
  }
  runtime.scheduler().on_dirty = nullptr;
  return absl::OkStatus();
}

}  // namespace shim::tui
