// One triggered entrypoint's channel, as the supervisor's poll loop sees it.
//
// Backpressure is the kernel's: while `concurrency` handlers are in flight the source is not
// Ready(), the loop stops polling its fd, messages stay queued in the channel, and once that
// bounded queue is full the senders' writes block. The supervisor never forks without bound and
// never buffers requests itself.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace shim::trigger {

enum class TriggerKind { kPipe, kFileSocket };

// In-flight handlers per triggered entrypoint when the spec sets no limits.concurrency.
inline constexpr uint32_t kDefaultConcurrency = 64;

// What one trigger hands to one new handler.
struct Delivery {
  std::string message;        // kPipe: the message bytes
  std::vector<UniqueFd> fds;  // kFileSocket: the fd batch
};

class TriggerSource {
 public:
  TriggerSource(std::string entrypoint, TriggerKind kind, int rx_fd, uint32_t concurrency);

  const std::string& entrypoint() const { return entrypoint_; }
  TriggerKind kind() const { return kind_; }
  int fd() const { return rx_fd_; }

  // True while another handler may start: only then should the loop poll fd().
  bool Ready() const { return in_flight_ < concurrency_; }

  // Receives one message or fd batch (call when fd() is readable and Ready()). A refused message
  // (oversized, fd batch without fds or with too many) is an error the caller logs; the source
  // stays usable and counts it.
  absl::StatusOr<Delivery> Take();

  // The caller started a handler for the last Delivery / one of its handlers ended.
  void Started() {
    ++in_flight_;
    ++started_;
  }
  void Finished() {
    if (in_flight_ > 0) --in_flight_;
  }

  uint32_t in_flight() const { return in_flight_; }
  uint64_t started() const { return started_; }
  uint64_t refused() const { return refused_; }

 private:
  std::string entrypoint_;
  TriggerKind kind_;
  int rx_fd_;
  uint32_t concurrency_;
  uint32_t in_flight_ = 0;
  uint64_t started_ = 0;
  uint64_t refused_ = 0;
};

}  // namespace shim::trigger
