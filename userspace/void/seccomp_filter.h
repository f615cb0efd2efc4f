// The void's seccomp filter, compiled once per entrypoint with libseccomp into a classic BPF
// program that each child installs with one system call (no allocation after fork).
#pragma once

#include <linux/filter.h>

#include <vector>

#include "absl/status/statusor.h"

namespace shim::sandbox {

struct SeccompPolicy {
  // With a network grant: AF_INET, AF_INET6 and NETLINK_ROUTE (getaddrinfo) sockets, never raw or
  // packet ones (an allowlist), and AF_UNIX as below. Without: AF_UNIX as below, nothing else.
  bool network = false;
  // socket(AF_UNIX) only with this (the spec's "unix_sockets"): a unix socket of its own lets a
  // void connect to a host daemon's socket in a grant (no Landlock right covers that yet) and, in
  // the host's network namespace, listen on an abstract name host clients connect to (no cgroup
  // hook sees a unix bind). Without it, datagram socketpairs are refused too: their ends could be
  // bound to a name and disconnected (connect AF_UNSPEC) to receive from anyone.
  bool unix_sockets = false;
};

// Denies (EPERM, never kill) what no void needs and what Docker's default profile denies: mount
// and namespace calls, ptrace, bpf, keyrings, perf, userfaultfd, io_uring, kexec, modules,
// handle-based opens, reboot, swap, acct, clock and time setting, TIOCSTI, clone with namespace
// flags (clone3 answers ENOSYS so libc falls back to clone), and socket families not granted.
// System calls of another architecture (x32, i386) kill the process.
absl::StatusOr<std::vector<sock_filter>> CompileSeccompFilter(const SeccompPolicy& policy);

}  // namespace shim::sandbox
