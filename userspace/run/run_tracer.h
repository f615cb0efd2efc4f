// `shim-bpf run --trace`: the process tree of the run (every fork, exec and exit inside every
// void, threads included) from the eBPF tracer, filtered in the kernel to the run's cgroup, added
// to --events as "process_fork", "process_exec", "process_exit" and "process_lost" lines, each
// with the entrypoint it belongs to.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "run/event_log.h"
#include "trace/tracer.h"

namespace shim::run {

class RunTracer {
 public:
  static absl::StatusOr<std::unique_ptr<RunTracer>> Start(uint64_t run_cgroup_id);

  int fd() const { return tracer_->fd(); }
  // Names the entrypoint of processes in the instance cgroup `cgroup_id`.
  void NoteInstance(uint64_t cgroup_id, const std::string& entrypoint) {
    entrypoints_[cgroup_id] = entrypoint;
  }
  // Writes every pending event to `events`. Call it at least every 10 ms (the producer does not
  // wake consumers up: that is what keeps tracing cheap).
  void Drain(EventLog& events);

 private:
  explicit RunTracer(std::unique_ptr<trace::Tracer> tracer) : tracer_(std::move(tracer)) {}

  std::unique_ptr<trace::Tracer> tracer_;
  absl::flat_hash_map<uint64_t, std::string> entrypoints_;
};

}  // namespace shim::run
