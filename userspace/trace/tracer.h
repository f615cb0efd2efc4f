// The process tracer: BPF programs on fork/exec/exit (bpf/proc_events.bpf.c) filtered in the
// kernel by a Scope, streaming ProcessEvents through a ring buffer. Producers submit with
// BPF_RB_NO_WAKEUP (wakeups cost ~20% of spawn rate), so the consumer polls fd() together with a
// ~10 ms timer and calls Consume() on every tick. Drops are counted by the kernel side and
// surfaced as kLost events: never silently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "trace/process_event.h"

namespace shim::trace {

struct Scope {
  enum Kind { kAll, kSubtree, kCgroup } kind = kAll;
  int32_t root_pid = 0;    // kSubtree: the root process (tgid); its descendants are followed
  uint64_t cgroup_id = 0;  // kCgroup: that cgroup v2 and its descendants
};

struct TracerOptions {
  uint32_t ring_buffer_bytes = 1 << 22;  // a power of two >= page size; tests use a tiny one
};

class Tracer {
 public:
  // Loads and attaches the programs. kSubtree inserts root_pid into the tracked set first.
  static absl::StatusOr<std::unique_ptr<Tracer>> Start(const Scope& scope,
                                                       const TracerOptions& options = {});

  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;
  ~Tracer();

  // The ring buffer's epoll fd: poll it together with a ~10 ms timer.
  int fd() const;

  // Drains the ring buffer (BPF_RB_NO_WAKEUP producer, so callers MUST also call this every
  // ~10 ms) and calls `sink` per event; emits a kLost event when the kernel-side drop counter
  // grew since the last call. A record that does not decode is an error (after the rest of the
  // buffer has been delivered).
  absl::Status Consume(const std::function<void(const ProcessEvent&)>& sink);

  // Events dropped by the kernel side so far (ring buffer full).
  uint64_t lost() const;

 private:
  struct State;
  explicit Tracer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The processes that exist now (scope-filtered), as kSnapshot events, parents before children.
absl::StatusOr<std::vector<ProcessEvent>> SnapshotProcesses(const Scope& scope);

}  // namespace shim::trace
