// One triggered entrypoint's channel, as the supervisor's poll loop sees it.
//
// Backpressure is the kernel's: while `concurrency` handlers are in flight the source is not
// Ready(), the loop stops polling its fd, messages stay queued in the channel, and once that
// bounded queue is full the senders' writes block. The supervisor never forks without bound and
// never buffers requests itself.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace shim::trigger {

// kListener: a listening stream socket (TCP or unix); each accepted connection is one delivery.
enum class TriggerKind { kPipe, kFileSocket, kListener };

// In-flight handlers per triggered entrypoint when the spec sets no limits.concurrency.
inline constexpr uint32_t kDefaultConcurrency = 64;

// What one trigger hands to one new handler.
struct Delivery {
  std::string message;        // kPipe: the message bytes
  std::vector<UniqueFd> fds;  // kFileSocket: the fd batch; kListener: the one connection
  std::string source;         // kListener over TCP: the client's address (per-source caps)
};

class TriggerSource {
 public:
  // For kListener, `rx_fd` is made non-blocking, and `max_per_source` (0: none) caps the
  // connections in flight from one client address (TCP); one over the cap is closed at once.
  TriggerSource(std::string entrypoint, TriggerKind kind, int rx_fd, uint32_t concurrency,
                uint32_t max_per_source = 0);

  const std::string& entrypoint() const { return entrypoint_; }
  TriggerKind kind() const { return kind_; }
  int fd() const { return rx_fd_; }

  // True while another handler may start: only then should the loop poll fd().
  bool Ready() const { return in_flight_ < concurrency_ && !paused_; }

  // Receives one message or fd batch, or accepts one connection (call when fd() is readable and
  // Ready()). A refused message (oversized, fd batch without fds or with too many) or connection
  // (over max_per_source) is an error the caller logs; the source stays usable and counts it.
  // Unavailable: nothing to take after all (a client that gave up before its accept); the
  // caller ignores it. A listener out of fds pauses itself (not Ready) until a handler ends.
  absl::StatusOr<Delivery> Take();

  // The caller started a handler for a Delivery / one of its handlers ended (`source` is the
  // Delivery's).
  void Started(const std::string& source = "");
  void Finished(const std::string& source = "");

  // Ends a pause after running out of fds (the loop's clock calls it once a second).
  void Resume();

  uint32_t in_flight() const { return in_flight_; }
  uint64_t started() const { return started_; }
  uint64_t refused() const { return refused_; }

 private:
  std::string entrypoint_;
  TriggerKind kind_;
  int rx_fd_;
  uint32_t concurrency_;
  uint32_t max_per_source_;
  std::map<std::string, uint32_t> per_source_;  // in flight, by client address
  bool paused_ = false;                         // accept ran out of fds: wait for a handler
  uint32_t in_flight_ = 0;
  uint64_t started_ = 0;
  uint64_t refused_ = 0;
};

}  // namespace shim::trigger
