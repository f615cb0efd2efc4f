// pidfd system calls, the one copy every module uses (void, cgroup and run all signal by pidfd).
// glibc 2.36's <sys/pidfd.h> lacks extern "C" (it links as C++ symbols that do not exist), so
// call the kernel directly.
#pragma once

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace shim {

inline int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

inline int PidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

}  // namespace shim
