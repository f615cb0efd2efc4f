// Sockets the supervisor makes for an entrypoint (TcpListener args) must be charged to the
// entrypoint's cgroup, not the supervisor's: cgroup BPF programs run by the cgroup a socket was
// *created* in. A listener created in the supervisor's cgroup escapes the whole policy once
// handed over: connect(fd, AF_UNSPEC) turns it back into a closed socket, and a connect() from
// there runs no program at all (tested in tests/bpf/net). So create them here.
#pragma once

#include <sys/socket.h>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace shim::net {

// Creates a socket of `type` (SOCK_STREAM: bound and listening with `backlog`; SOCK_DGRAM:
// bound) on `address` from a short-lived child process placed in the cgroup `cgroup_fd` (an
// O_DIRECTORY fd of a cgroup v2 directory that may hold processes: a leaf beneath the entrypoint
// cgroup such as <run>/<entrypoint>/listeners). The child's bind passes the policy's bind hook,
// so the port must be an inbound grant of that entrypoint. Safe to call from a multi-threaded
// process (the child makes system calls only). The socket has FD_CLOEXEC and SO_REUSEADDR.
absl::StatusOr<UniqueFd> BindSocketInCgroup(int cgroup_fd, int type, const sockaddr* address,
                                            socklen_t address_len, int backlog = 128);

}  // namespace shim::net
