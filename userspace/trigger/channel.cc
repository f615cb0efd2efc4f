#include "trigger/channel.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/deferred_close.h"
#include "common/errno_status.h"

namespace shim::trigger {
namespace {

// For AF_UNIX datagram-style sockets the kernel refuses a send of more than sk_sndbuf - 32 bytes,
// and SO_SNDBUF sets sk_sndbuf to twice the value given: this makes the limit exactly
// kMaxMessageBytes (checked by channel_test).
constexpr int kSendBufferForLimit = static_cast<int>((kMaxMessageBytes + 32) / 2);

}  // namespace

absl::StatusOr<Channel> CreateChannel() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoStatus("create channel (socketpair SOCK_SEQPACKET)");
  }
  Channel channel{UniqueFd(fds[0]), UniqueFd(fds[1])};
  if (setsockopt(channel.tx.get(), SOL_SOCKET, SO_SNDBUF, &kSendBufferForLimit,
                 sizeof(kSendBufferForLimit)) != 0) {
    return ErrnoStatus("limit channel message size (SO_SNDBUF)");
  }
  // Each end works in one direction only: a reader cannot answer into the writer's end.
  if (shutdown(channel.rx.get(), SHUT_WR) != 0 || shutdown(channel.tx.get(), SHUT_RD) != 0) {
    return ErrnoStatus("make channel one-directional (shutdown)");
  }
  return channel;
}

absl::StatusOr<std::string> ReceiveMessage(int rx_fd) {
  // One scratch buffer per thread: allocating and clearing 64 KiB per message would cost more
  // than the message itself.
  thread_local std::unique_ptr<char[]> scratch(new char[kMaxMessageBytes]);
  ssize_t n;
  do {
    // MSG_TRUNC makes recv return the real length of a longer message, which it then discards.
    n = recv(rx_fd, scratch.get(), kMaxMessageBytes, MSG_TRUNC | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoStatus("receive message");
  if (static_cast<size_t>(n) > kMaxMessageBytes) {
    return absl::InvalidArgumentError(absl::StrCat("message of ", n, " bytes is over the limit of ",
                                                   kMaxMessageBytes, " bytes; discarded"));
  }
  return std::string(scratch.get(), static_cast<size_t>(n));
}

absl::StatusOr<std::vector<UniqueFd>> ReceiveFdBatch(int rx_fd) {
  char payload[256];
  iovec iov{payload, sizeof(payload)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerBatch)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = recvmsg(rx_fd, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoStatus("receive fd batch");

  std::vector<UniqueFd> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const int* data = reinterpret_cast<const int*>(CMSG_DATA(c));
    for (size_t i = 0; i < count; ++i) fds.emplace_back(data[i]);
  }
  // A refused batch's fds are closed off the caller's thread, with SO_LINGER off: a sender could
  // have made their close block (a TCP socket with unsent data and a long linger).
  if (msg.msg_flags & MSG_CTRUNC) {
    const size_t received = fds.size();
    DiscardForeign(fds);
    if (received < kMaxFdsPerBatch) {
      // The control buffer holds kMaxFdsPerBatch fds, so a batch cut shorter than that is one the
      // kernel could not install here: this process is out of file descriptors.
      return absl::ResourceExhaustedError(
          absl::StrCat("fd batch refused and its fds closed: only ", received,
                       " of its fds could be received (out of file descriptors, RLIMIT_NOFILE)"));
    }
    return absl::InvalidArgumentError(absl::StrCat("fd batch has more than ", kMaxFdsPerBatch,
                                                   " fds; refused and its fds closed"));
  }
  if (fds.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("message of ", n, " bytes carries no fds; a FileSocket only carries fds"));
  }
  return fds;
}

absl::Status CheckArgvWord(absl::string_view message) {
  if (size_t nul = message.find('\0'); nul != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("message has a NUL byte at offset ", nul,
                     " and cannot be an argv word; use the TriggerFd arg to receive binary data"));
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> SealedMemfd(absl::string_view bytes) {
  UniqueFd memfd(memfd_create("shim-bpf-trigger", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) return ErrnoStatus("memfd_create for trigger message");
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = write(memfd.get(), bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoStatus("write trigger message to memfd");
    written += static_cast<size_t>(n);
  }
  if (fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) !=
      0) {
    return ErrnoStatus("seal trigger memfd");
  }
  // The handler gets a fresh read-only open file description, at offset 0.
  std::string self = absl::StrCat("/proc/self/fd/", memfd.get());
  UniqueFd readonly(open(self.c_str(), O_RDONLY | O_CLOEXEC));
  if (!readonly) return ErrnoStatus("reopen trigger memfd read-only");
  return readonly;
}

}  // namespace shim::trigger
