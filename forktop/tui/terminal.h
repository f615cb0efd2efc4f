// The real terminal: raw mode, alternate screen, hidden cursor, and the restore of all three on
// every exit path. Normal exits and exceptions restore in the destructor (and an atexit hook
// covers exit()); SIGINT/SIGTERM are read through the loop's signalfd and end the loop normally;
// crashes (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) run a handler that writes the restore
// sequence with write(2), resets termios with tcsetattr (both async-signal-safe) and re-raises.
#pragma once

#include <termios.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace shim::tui {

// Bytes that put a terminal back: end synchronized output, reset attributes, show the cursor,
// leave the alternate screen.
inline constexpr std::string_view kRestoreSequence =
    "\x1b[?2026l\x1b[0m\x1b[H\x1b[2J\x1b[?25h\x1b[?1049l";
// Bytes that set it up: alternate screen, hidden cursor, cleared; then ask whether synchronized
// output (mode 2026) is supported (the DECRPM reply arrives as a KeyCode::kModeReport key).
inline constexpr std::string_view kSetupSequence = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
inline constexpr std::string_view kQuerySyncSequence = "\x1b[?2026$p";

struct TermSize {
  int width = 80;
  int height = 24;
};

class TtyTerminal {
 public:
  // Takes over the terminal on `in_fd`/`out_fd` (usually 0 and 1).
  static absl::StatusOr<std::unique_ptr<TtyTerminal>> Open(int in_fd, int out_fd);
  ~TtyTerminal();  // restores
  TtyTerminal(const TtyTerminal&) = delete;
  TtyTerminal& operator=(const TtyTerminal&) = delete;

  TermSize Size() const;
  void Write(std::string_view bytes) const;  // all of it (retries short writes and EINTR)
  int in_fd() const { return in_fd_; }
  // Restores now (idempotent); the destructor calls it.
  void Restore();

 private:
  TtyTerminal(int in_fd, int out_fd) : in_fd_(in_fd), out_fd_(out_fd) {}
  int in_fd_;
  int out_fd_;
  bool active_ = false;
};

// Installs the crash handlers for a terminal whose saved state is `saved` on `fd` (the class does
// this; exposed for tests). Passing fd < 0 disarms them.
void ArmCrashRestore(int fd, const termios* saved);

}  // namespace shim::tui
