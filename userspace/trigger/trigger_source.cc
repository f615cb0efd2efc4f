#include "trigger/trigger_source.h"

#include "trigger/channel.h"

namespace shim::trigger {

TriggerSource::TriggerSource(std::string entrypoint, TriggerKind kind, int rx_fd,
                             uint32_t concurrency)
    : entrypoint_(std::move(entrypoint)),
      kind_(kind),
      rx_fd_(rx_fd),
      concurrency_(concurrency == 0 ? kDefaultConcurrency : concurrency) {}

absl::StatusOr<Delivery> TriggerSource::Take() {
  Delivery delivery;
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

}  // namespace shim::trigger
