#include "tui/terminal.h"

#include <errno.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

#include "common/errno_status.h"

namespace shim::tui {
namespace {

// State the signal handler reads: plain globals (no allocation, no locks in the handler).
volatile sig_atomic_t g_armed = 0;
int g_fd = -1;
termios g_saved;
bool g_handlers_installed = false;
bool g_atexit_installed = false;

constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void RestoreFromAnywhere() {
  if (!g_armed) return;
  g_armed = 0;
  WriteAll(g_fd, kRestoreSequence.data(), kRestoreSequence.size());
  ::tcsetattr(g_fd, TCSAFLUSH, &g_saved);
}

void CrashHandler(int sig) {
  const int saved_errno = errno;
  RestoreFromAnywhere();
  errno = saved_errno;
  // SA_RESETHAND put the default action back: re-raise so the process dies by the same signal
  // (and dumps core if it would have).
  ::raise(sig);
}

void AtExit() { RestoreFromAnywhere(); }

}  // namespace

void ArmCrashRestore(int fd, const termios* saved) {
  if (fd < 0 || saved == nullptr) {
    g_armed = 0;
    return;
  }
  g_fd = fd;
  g_saved = *saved;
  g_armed = 1;
  if (!g_handlers_installed) {
    struct sigaction sa = {};
    sa.sa_handler = CrashHandler;
    sa.sa_flags = SA_RESETHAND | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (int sig : kCrashSignals) ::sigaction(sig, &sa, nullptr);
    g_handlers_installed = true;
  }
  if (!g_atexit_installed) {
    std::atexit(AtExit);
    g_atexit_installed = true;
  }
}

absl::StatusOr<std::unique_ptr<TtyTerminal>> TtyTerminal::Open(int in_fd, int out_fd) {
  if (!::isatty(in_fd) || !::isatty(out_fd)) {
    return absl::FailedPreconditionError("not a terminal (use --once or --json in scripts)");
  }
  termios saved;
  if (::tcgetattr(out_fd, &saved) != 0) return ErrnoStatus("tcgetattr", errno);
  termios raw = saved;
  ::cfmakeraw(&raw);
  // Keep output processing off too (cfmakeraw does): the renderer emits CR LF itself.
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  std::unique_ptr<TtyTerminal> term(new TtyTerminal(in_fd, out_fd));
  ArmCrashRestore(out_fd, &saved);
  if (::tcsetattr(out_fd, TCSAFLUSH, &raw) != 0) {
    const int err = errno;
    ArmCrashRestore(-1, nullptr);
    return ErrnoStatus("tcsetattr raw", err);
  }
  term->active_ = true;
  term->Write(kSetupSequence);
  term->Write(kQuerySyncSequence);
  return term;
}

TtyTerminal::~TtyTerminal() { Restore(); }

void TtyTerminal::Restore() {
  if (!active_) return;
  active_ = false;
  RestoreFromAnywhere();
}

TermSize TtyTerminal::Size() const {
  winsize ws = {};
  if (::ioctl(out_fd_, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0 || ws.ws_row == 0) return {};
  return {ws.ws_col, ws.ws_row};
}

void TtyTerminal::Write(std::string_view bytes) const {
  WriteAll(out_fd_, bytes.data(), bytes.size());
}

}  // namespace shim::tui
