#include "trigger/trigger_source.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "trigger/channel.h"

namespace shim::trigger {

namespace {

// The client's address without the port ("192.0.2.7", "2001:db8::1"), or "" for a unix peer.
std::string ClientAddress(const sockaddr_storage& peer) {
  char text[INET6_ADDRSTRLEN] = {};
  if (peer.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(peer);
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
  } else if (peer.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(peer);
    inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
  }
  return text;
}

}  // namespace

TriggerSource::TriggerSource(std::string entrypoint, TriggerKind kind, int rx_fd,
                             uint32_t concurrency, uint32_t max_per_source)
    : entrypoint_(std::move(entrypoint)),
      kind_(kind),
      rx_fd_(rx_fd),
      concurrency_(concurrency == 0 ? kDefaultConcurrency : concurrency),
      max_per_source_(max_per_source) {
  // The loop polls the listener and accepts only when it is readable; a client that resets in
  // between must not leave accept() blocking the loop.
  if (kind_ == TriggerKind::kListener) fcntl(rx_fd_, F_SETFL, fcntl(rx_fd_, F_GETFL) | O_NONBLOCK);
}

void TriggerSource::Started(const std::string& source) {
  ++in_flight_;
  ++started_;
  if (max_per_source_ != 0 && !source.empty()) ++per_source_[source];
}

void TriggerSource::Finished(const std::string& source) {
  if (in_flight_ > 0) --in_flight_;
  paused_ = false;
  if (max_per_source_ == 0 || source.empty()) return;
  auto it = per_source_.find(source);
  if (it != per_source_.end() && --it->second == 0) per_source_.erase(it);
}

absl::StatusOr<Delivery> TriggerSource::Take() {
  Delivery delivery;
  if (kind_ == TriggerKind::kListener) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    // Blocking for the handler (accept4 does not pass O_NONBLOCK on), closed on exec. The peer's
    // address is asked for only when a per-source cap needs it.
    const bool capped = max_per_source_ != 0;
    UniqueFd connection(accept4(rx_fd_, capped ? reinterpret_cast<sockaddr*>(&peer) : nullptr,
                                capped ? &length : nullptr, SOCK_CLOEXEC));
    if (!connection) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == ECONNABORTED || err == EINTR ||
          err == EPROTO) {
        return absl::UnavailableError("no connection to accept");
      }
      ++refused_;
      // Out of fds or memory: the connection stays queued; accept again once a handler ends
      // (or on the loop's next clock tick), rather than spinning on a listener still readable.
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) paused_ = true;
      return ErrnoStatus("accept a connection", err);
    }
    if (capped) delivery.source = ClientAddress(peer);
    if (capped && !delivery.source.empty()) {
      auto it = per_source_.find(delivery.source);
      if (it != per_source_.end() && it->second >= max_per_source_) {
        ++refused_;
        // Closed here, at once: a socket this process accepted a moment ago has no linger set,
        // so its close never blocks the loop.
        return absl::FailedPreconditionError(absl::StrCat(
            "connection from ", delivery.source, " closed: ", it->second,
            " already in flight from that address (max_per_source ", max_per_source_, ")"));
      }
    }
    delivery.fds.push_back(std::move(connection));
    return delivery;
  }
  if (kind_ == TriggerKind::kPipe) {
    absl::StatusOr<std::string> message = ReceiveMessage(rx_fd_);
    if (!message.ok()) {
      ++refused_;
      return message.status();
    }
    delivery.message = *std::move(message);
  } else {
    absl::StatusOr<std::vector<UniqueFd>> fds = ReceiveFdBatch(rx_fd_);
    if (!fds.ok()) {
      ++refused_;
      return fds.status();
    }
    delivery.fds = *std::move(fds);
  }
  return delivery;
}

void TriggerSource::Resume() { paused_ = false; }

}  // namespace shim::trigger
