// The event loop: one poll(2) over the terminal input, a signalfd (SIGWINCH, SIGINT, SIGTERM), a
// timerfd frame clock and any number of extra fds. Frames are rendered only when state changed
// (the runtime is dirty), at most `max_fps` per second: the first change after a quiet period
// arms the timer for the next frame slot, so an idle UI makes no wakeups at all.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "tui/keys.h"
#include "tui/renderer.h"
#include "tui/runtime.h"
#include "tui/terminal.h"

namespace shim::tui {

// Lets components watch fds without knowing the loop (tests pass a fake).
class FdWatcher {
 public:
  virtual ~FdWatcher() = default;
  // `on_readable` runs in the loop when `fd` polls readable; watching an fd again replaces it.
  virtual void Watch(int fd, std::function<void()> on_readable) = 0;
  virtual void Unwatch(int fd) = 0;
};

// What the frames drawn so far cost (forktop --stats, bench/cases/forktop.sh). A frame is the
// render (components, layout, effects), the diff and the write to the terminal; its cost is this
// thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so other processes on the machine do not count.
struct FrameStats {
  int64_t frames = 0;
  int64_t cpu_ns = 0;               // all frames
  std::vector<int64_t> samples_ns;  // each frame's, for the first KeepFrameSamples(n) frames
};

class EventLoop : public FdWatcher {
 public:
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create(int max_fps = 30);
  ~EventLoop() override;

  void Watch(int fd, std::function<void()> on_readable) override;
  void Unwatch(int fd) override;

  // Runs until the runtime requests quit, input ends, Ctrl-C is not handled by a component, or
  // SIGINT/SIGTERM arrives. The caller then destroys the terminal, which restores it.
  absl::Status Run(Runtime& runtime, TtyTerminal& terminal);

  int frames() const { return static_cast<int>(stats_.frames); }
  // Keeps each frame's CPU time in stats().samples_ns, for at most `max` frames (bounded, so a
  // forktop left running for days does not grow; 0, the default, keeps none).
  void KeepFrameSamples(size_t max) { max_samples_ = max; }
  const FrameStats& stats() const { return stats_; }
  int quit_signal() const { return quit_signal_; }  // SIGINT/SIGTERM that ended Run, or 0

 private:
  EventLoop() = default;
  void ArmFrame();
  absl::Status DrawFrame(Runtime& runtime, TtyTerminal& terminal);

  struct Watched {
    int fd;
    std::shared_ptr<std::function<void()>> callback;
  };

  UniqueFd signal_fd_;
  UniqueFd timer_fd_;
  sigset_t old_mask_;
  std::vector<Watched> watched_;
  std::chrono::nanoseconds frame_interval_{};
  std::chrono::steady_clock::time_point last_frame_{};
  bool timer_armed_ = false;
  bool needs_paint_ = false;  // rendered between keys but not yet written to the terminal
  FrameStats stats_;
  size_t max_samples_ = 0;
  int quit_signal_ = 0;
  KeyParser parser_;
  std::chrono::steady_clock::time_point escape_pending_since_;  // when a lone ESC arrived
  DiffRenderer renderer_;
};

}  // namespace shim::tui
