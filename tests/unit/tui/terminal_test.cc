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
#include <string>
#include <thread>

#include "tui/loop.h"
#include "tui/runtime.h"
#include "tui/terminal.h"

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
    volatile int* p = nullptr;
    *p = 1;  // the crash handler restores, then the process dies by SIGSEGV
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

}  // namespace
}  // namespace shim::tui
