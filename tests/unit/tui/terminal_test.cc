// Terminal handling on a real pseudo-terminal: setup and restore sequences and termios on a
// normal exit, on SIGTERM through the loop's signalfd, and on a crash (SIGSEGV handler).
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

#include "tui/loop.h"
#include "tui/runtime.h"
#include "tui/terminal.h"

#include <sys/timerfd.h>

namespace shim::tui {
namespace {

// Reads everything the child writes to the pty until it exits (or `timeout`).
std::string Drain(int master, pid_t child, int& status) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool exited = false;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p = {master, POLLIN, 0};
    if (::poll(&p, 1, 50) > 0 && (p.revents & POLLIN)) {
      char buf[4096];
      const ssize_t n = ::read(master, buf, sizeof buf);
      if (n > 0) {
        out.append(buf, static_cast<size_t>(n));
        continue;
      }
    }
    if (exited) break;
    if (::waitpid(child, &status, WNOHANG) == child) exited = true;
  }
  if (!exited) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
  }
  return out;
}

struct Pty {
  int master = -1;
  int slave = -1;
  Pty() {
    winsize ws = {};
    ws.ws_col = 40;
    ws.ws_row = 5;
    EXPECT_EQ(::openpty(&master, &slave, nullptr, nullptr, &ws), 0);
  }
  ~Pty() {
    ::close(master);
    if (slave >= 0) ::close(slave);
  }
};

bool Canonical(int fd) {
  termios t;
  ::tcgetattr(fd, &t);
  return (t.c_lflag & ICANON) != 0;
}

Element QuitOnQ() {
  return Text("hello").OnKey([](const Key& k) {
    if (k.Is('q')) Runtime::Current()->RequestQuit();
    return k.Is('q');
  });
}

// Child: takes over the pty slave, runs the loop (or crashes), reports via exit status.
[[noreturn]] void RunChild(int slave, const std::string& mode) {
  auto term = TtyTerminal::Open(slave, slave);
  if (!term.ok()) ::_exit(10);
  if (mode == "segv") {
    // A real fault (not null, which UBSan would catch first): the crash handler restores, then
    // the process dies by SIGSEGV.
    volatile uintptr_t address = 16;
    *reinterpret_cast<volatile int*>(address) = 1;
  }
  if (mode == "throw") {
    // An uncaught exception (in a thread, where no test framework catches it):
    // std::terminate -> abort -> the SIGABRT handler.
    std::thread([] { throw std::runtime_error("boom"); }).join();
  }
  auto loop = EventLoop::Create();
  if (!loop.ok()) ::_exit(11);
  Runtime rt(Component(QuitOnQ));
  if (!(*loop)->Run(rt, **term).ok()) ::_exit(12);
  const int sig = (*loop)->quit_signal();
  term->reset();  // restores
  ::_exit(sig == SIGTERM ? 42 : 0);
}

TEST(TerminalTest, RestoresOnNormalQuit) {
  Pty pty;
  ASSERT_TRUE(Canonical(pty.slave));
  const pid_t child = ::fork();
  if (child == 0) RunChild(pty.slave, "normal");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(Canonical(pty.slave));  // raw while running
  ASSERT_EQ(::write(pty.master, "q", 1), 1);
  int status = 0;
  const std::string out = Drain(pty.master, child, status);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(out.find(std::string(kSetupSequence)), std::string::npos);
  EXPECT_NE(out.find("hello"), std::string::npos);
  EXPECT_NE(out.find(std::string(kRestoreSequence)), std::string::npos);
  EXPECT_GT(out.find(std::string(kRestoreSequence)), out.find("hello"));
  EXPECT_TRUE(Canonical(pty.slave));
}

TEST(TerminalTest, RestoresOnSigterm) {
  Pty pty;
  const pid_t child = ::fork();
  if (child == 0) RunChild(pty.slave, "normal");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ::kill(child, SIGTERM);
  int status = 0;
  const std::string out = Drain(pty.master, child, status);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 42);  // the loop saw SIGTERM through its signalfd
  EXPECT_NE(out.find(std::string(kRestoreSequence)), std::string::npos);
  EXPECT_TRUE(Canonical(pty.slave));
}

TEST(TerminalTest, RestoresOnUncaughtException) {
  Pty pty;
  const pid_t child = ::fork();
  if (child == 0) RunChild(pty.slave, "throw");
  int status = 0;
  const std::string out = Drain(pty.master, child, status);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGABRT);
  EXPECT_NE(out.find(std::string(kRestoreSequence)), std::string::npos);
  EXPECT_TRUE(Canonical(pty.slave));
}

TEST(TerminalTest, RestoresOnCrash) {
  Pty pty;
  const pid_t child = ::fork();
  if (child == 0) RunChild(pty.slave, "segv");
  int status = 0;
  const std::string out = Drain(pty.master, child, status);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGSEGV);  // re-raised after the restore
  EXPECT_NE(out.find(std::string(kRestoreSequence)), std::string::npos);
  EXPECT_TRUE(Canonical(pty.slave));
}

// A component that changes state every millisecond (through a watched timerfd) for 400 ms, then
// stays idle for 400 ms and quits: frames must be capped at 30 per second and stop when idle.
EventLoop* g_loop = nullptr;
int g_frames_at_idle = 0;

Element Busy() {
  auto [ticks, set_ticks] = use_state(0);
  use_effect(
      [set_ticks]() -> Cleanup {
        const int fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        itimerspec spec = {};
        spec.it_value.tv_nsec = 1'000'000;
        spec.it_interval.tv_nsec = 1'000'000;
        ::timerfd_settime(fd, 0, &spec, nullptr);
        const auto start = std::chrono::steady_clock::now();
        g_loop->Watch(fd, [fd, set_ticks, start] {
          uint64_t n;
          (void)!::read(fd, &n, sizeof n);
          const auto age = std::chrono::steady_clock::now() - start;
          if (age < std::chrono::milliseconds(400)) {
            set_ticks.Update([](int v) { return v + 1; });
          } else if (age < std::chrono::milliseconds(500)) {
            // Settling: the last change's frame is drawn within one frame interval.
          } else if (age < std::chrono::milliseconds(800)) {
            if (g_frames_at_idle == 0) g_frames_at_idle = g_loop->frames();
          } else {
            g_loop->Unwatch(fd);
            ::close(fd);
            ::kill(::getpid(), SIGINT);  // ends the loop through its signalfd
          }
        });
        return nullptr;
      },
      Deps{});
  return Text("ticks " + std::to_string(ticks));
}

// Forks a child that runs the Busy component on the pty until it quits, then exits with what
// `report` makes of the loop (100, 101: the terminal or loop could not start or run). `prepare`
// runs before the loop does.
pid_t ForkBusyLoop(const Pty& pty, const std::function<void(EventLoop&)>& prepare,
                   const std::function<int(EventLoop&)>& report) {
  const pid_t child = ::fork();
  if (child != 0) return child;
  auto term = TtyTerminal::Open(pty.slave, pty.slave);
  auto loop = EventLoop::Create();
  if (!term.ok() || !loop.ok()) ::_exit(100);
  g_loop = loop->get();
  prepare(**loop);
  Runtime rt(Component(Busy));
  if (!(*loop)->Run(rt, **term).ok()) ::_exit(101);
  const int code = report(**loop);
  term->reset();
  ::_exit(code);
}

TEST(TerminalTest, FramesAreCappedAndOnlyDrawnWhenDirty) {
  Pty pty;
  const pid_t child = ForkBusyLoop(
      pty, [](EventLoop&) {},
      [](EventLoop& loop) {
        const int frames = loop.frames();
        // Report: frames while busy (1 + at most 30/s * 0.4 s + slack) and none while idle.
        const bool idle_quiet = frames == g_frames_at_idle;
        return idle_quiet ? std::min(frames, 99) : 150 + std::min(frames, 99);
      });
  int status = 0;
  const std::string out = Drain(pty.master, child, status);
  ASSERT_TRUE(WIFEXITED(status));
  const int code = WEXITSTATUS(status);
  EXPECT_LT(code, 150) << "frames were drawn while nothing changed";
  const int frames = code % 150;
  EXPECT_GE(frames, 5);   // it did render as state changed ~400 times
  EXPECT_LE(frames, 16);  // but at most 30 per second: 1 + 12 + slack
  EXPECT_NE(out.find("ticks"), std::string::npos);
}

// Every frame's CPU time is counted, and per-frame samples are kept only up to the bound asked
// for (forktop --stats must not grow without limit in a long session).
TEST(TerminalTest, FrameStatsCountEachFrameWithBoundedSamples) {
  Pty pty;
  const pid_t child = ForkBusyLoop(
      pty, [](EventLoop& loop) { loop.KeepFrameSamples(3); },
      [](EventLoop& loop) {
        const FrameStats& s = loop.stats();
        int64_t sampled = 0;
        bool positive = true;
        for (int64_t ns : s.samples_ns) {
          sampled += ns;
          positive = positive && ns > 0;
        }
        if (s.frames != loop.frames() || s.frames <= 3) return 1;  // Busy draws 5 or more
        if (s.samples_ns.size() != 3) return 2;
        if (!positive) return 3;
        if (s.cpu_ns <= sampled) return 4;  // the total also has the frames not sampled
        return 0;
      });
  int status = 0;
  Drain(pty.master, child, status);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: frame count, 2: bound, 3: zero sample, 4: total";
}

// A lone ESC must become the Esc key even while another fd wakes the loop every 5 ms (a live
// event source does): the escape deadline survives other wakeups.
Element QuitOnEscWhileBusy() {
  use_effect(
      []() -> Cleanup {
        const int fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        itimerspec spec = {};
        spec.it_value.tv_nsec = 5'000'000;
        spec.it_interval.tv_nsec = 5'000'000;
        ::timerfd_settime(fd, 0, &spec, nullptr);
        g_loop->Watch(fd, [fd] {
          uint64_t n;
          (void)!::read(fd, &n, sizeof n);
        });
        return [fd] {
          g_loop->Unwatch(fd);
          ::close(fd);
        };
      },
      Deps{});
  return Text("waiting for Esc").OnKey([](const Key& k) {
    if (k.code == KeyCode::kEscape) Runtime::Current()->RequestQuit();
    return true;
  });
}

TEST(TerminalTest, LoneEscapeIsDeliveredWhileOtherFdsAreBusy) {
  Pty pty;
  const pid_t child = ::fork();
  if (child == 0) {
    auto term = TtyTerminal::Open(pty.slave, pty.slave);
    auto loop = EventLoop::Create();
    if (!term.ok() || !loop.ok()) ::_exit(100);
    g_loop = loop->get();
    {
      Runtime rt(Component(QuitOnEscWhileBusy));
      if (!(*loop)->Run(rt, **term).ok()) ::_exit(101);
    }
    ::_exit(0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(::write(pty.master, "\x1b", 1), 1);
  int status = 0;
  const auto start = std::chrono::steady_clock::now();
  Drain(pty.master, child, status);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace shim::tui
