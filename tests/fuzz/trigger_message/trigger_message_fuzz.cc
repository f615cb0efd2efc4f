// Trigger message and fd-batch handling with hostile bytes: whatever a sender writes, the
// supervisor's receive path returns a message equal to what was sent or a clean error, never
// crashes, and never leaks an fd.
//
// Input layout: byte 0 picks the path (even: Pipe message; odd: FileSocket batch with
// byte1 % 80 fds, beyond the batch limit on purpose); the rest is the payload.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/deferred_close.h"
#include "shim/app.h"
#include "trigger/channel.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "trigger_message_fuzz: invariant broken: %s\n", what);
    abort();
  }
}

void PipeMessage(const std::string& payload) {
  auto ch = shim::trigger::CreateChannel();
  Check(ch.ok(), "channel");
  int big = 1 << 18;  // a sender may raise its own buffer to try to slip a big message through
  setsockopt(ch->tx.get(), SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
  ssize_t sent = send(ch->tx.get(), payload.data(), payload.size(), MSG_DONTWAIT);
  if (sent < 0) return;
  auto got = shim::trigger::ReceiveMessage(ch->rx.get());
  if (payload.size() > shim::trigger::kMaxMessageBytes) {
    Check(!got.ok(), "oversized message refused");
    return;
  }
  Check(got.ok() && *got == payload, "message arrives whole and unchanged");
  bool has_nul = payload.find('\0') != std::string::npos;
  Check(shim::trigger::CheckArgvWord(*got).ok() == !has_nul, "argv word check matches NULs");
  if (has_nul) {
    auto memfd = shim::trigger::SealedMemfd(*got);
    Check(memfd.ok(), "binary message fits a sealed memfd");
    std::string back(payload.size() + 1, '\0');
    Check(read(memfd->get(), back.data(), back.size()) == static_cast<ssize_t>(payload.size()),
          "memfd holds exactly the message");
  }
}

void FdBatch(size_t count, const std::string& payload) {
  auto ch = shim::trigger::CreateChannel();
  Check(ch.ok(), "channel");
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<int> fds(count, null_fd);
  std::vector<char> control(CMSG_SPACE(sizeof(int) * (count ? count : 1)));
  std::string body = payload.empty() ? std::string("x") : payload.substr(0, 1024);
  iovec iov{body.data(), body.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (count > 0) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * count);
    memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * count);
  }
  if (sendmsg(ch->tx.get(), &msg, MSG_DONTWAIT) < 0) {
    close(null_fd);
    return;
  }
  const int probe_before = dup(0);
  close(probe_before);
  {
    auto got = shim::trigger::ReceiveFdBatch(ch->rx.get());
    if (count == 0 || count > shim::trigger::kMaxFdsPerBatch) {
      Check(!got.ok(), "empty or oversized batch refused");
    } else {
      Check(got.ok() && got->size() == count, "batch arrives with exactly its fds");
    }
  }
  // Every received fd was closed again (a refused batch's off this thread): the lowest free fd is
  // where it was.
  shim::FlushDeferredCloses();
  const int probe_after = dup(0);
  close(probe_after);
  Check(probe_after == probe_before, "no fd leaked by the receive path");
  close(null_fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    PipeMessage(payload);
  } else {
    FdBatch(size > 1 ? data[1] % 80 : 1, payload);
  }
  return 0;
}
