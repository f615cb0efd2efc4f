#include "net/socket_in_cgroup.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace shim::net {
namespace {

// Which step failed in the child, sent back with its errno.
enum Step : int { kJoinCgroup = 1, kSocket, kSetsockopt, kBind, kListen, kSend };

const char* StepName(int step) {
  switch (step) {
    case kJoinCgroup:
      return "join the socket's cgroup";
    case kSocket:
      return "socket()";
    case kSetsockopt:
      return "setsockopt(SO_REUSEADDR)";
    case kBind:
      return "bind()";
    case kListen:
      return "listen()";
    default:
      return "send the socket back";
  }
}

// Child side: system calls only (we may be a fork of a multi-threaded process).
[[noreturn]] void Child(int procs_fd, int channel, int type, const sockaddr* address,
                        socklen_t address_len, int backlog) {
  int report[2] = {0, 0};
  int fd = -1;
  int one = 1;
  if (write(procs_fd, "0", 1) != 1) {
    report[0] = kJoinCgroup;
  } else if ((fd = socket(address->sa_family, type | SOCK_CLOEXEC, 0)) < 0) {
    report[0] = kSocket;
  } else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    report[0] = kSetsockopt;
  } else if (bind(fd, address, address_len) != 0) {
    report[0] = kBind;
  } else if (type == SOCK_STREAM && listen(fd, backlog) != 0) {
    report[0] = kListen;
  }
  if (report[0] != 0) report[1] = errno;
  msghdr msg{};
  iovec iov{report, sizeof(report)};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (report[0] == 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  _exit(sendmsg(channel, &msg, 0) == static_cast<ssize_t>(sizeof(report)) ? 0 : 1);
}

}  // namespace

absl::StatusOr<UniqueFd> BindSocketInCgroup(int cgroup_fd, int type, const sockaddr* address,
                                            socklen_t address_len, int backlog) {
  if (type != SOCK_STREAM && type != SOCK_DGRAM) {
    return absl::InvalidArgumentError("BindSocketInCgroup: type must be SOCK_STREAM or SOCK_DGRAM");
  }
  UniqueFd procs(openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC));
  if (!procs) return ErrnoStatus("open cgroup.procs of the socket's cgroup");
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return ErrnoStatus("socketpair for BindSocketInCgroup");
  }
  UniqueFd ours(pair[0]), theirs(pair[1]);
  const pid_t pid = fork();
  if (pid < 0) return ErrnoStatus("fork a socket-creating child");
  if (pid == 0) Child(procs.get(), theirs.get(), type, address, address_len, backlog);
  theirs.reset();

  int report[2] = {0, 0};
  msghdr msg{};
  iovec iov{report, sizeof(report)};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = recvmsg(ours.get(), &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  const int recv_errno = errno;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof(report))) {
    return ErrnoStatus("receive the socket from its creating child", n < 0 ? recv_errno : EPROTO);
  }
  if (report[0] != 0) {
    return ErrnoStatus(absl::StrCat("create the socket in its cgroup: ", StepName(report[0])),
                       report[1]);
  }
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (c == nullptr || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) {
    return absl::InternalError("socket-creating child sent no socket");
  }
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
  return UniqueFd(fd);
}

}  // namespace shim::net
