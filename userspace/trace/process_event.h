// One process-lifecycle event as userspace sees it: the contract between the tracer (which makes
// them from BPF ring-buffer records and a /proc snapshot), forktop (which shows them), its
// --record/--replay files, and `shim-bpf run --events`. The JSON Lines form is stable: replay
// files written today must load tomorrow, so fields are only ever added.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace shim::trace {

enum class EventKind {
  kSnapshot,  // a process that already existed when tracing started (read from /proc)
  kFork,      // a new process or thread; `parent_tgid` is the forking process
  kExec,      // a successful execve; `filename` and `argv` are set
  kExit,      // a thread or process ended; `exit_code`/`exit_signal` are set
  kLost,      // `lost` events were dropped by the kernel side (ring buffer full)
};

struct ProcessEvent {
  EventKind kind = EventKind::kFork;
  uint64_t timestamp_ns = 0;  // CLOCK_MONOTONIC (bpf_ktime_get_ns); snapshot: process start time
  int32_t pid = 0;            // the thread id
  int32_t tgid = 0;           // the process id (== pid for a process's main thread)
  int32_t parent_tgid = 0;    // the parent process
  bool is_thread = false;     // kFork/kExit of a non-leader thread
  uint64_t cgroup_id = 0;     // cgroup v2 id of the task
  std::string comm;           // task->comm, at most 15 bytes
  std::string filename;       // kExec: the executed path; kSnapshot: /proc/PID/exe if readable
  std::vector<std::string> argv;  // kExec/kSnapshot: the first argv words (possibly truncated)
  int32_t exit_code = 0;          // kExit: the exit status (0-255) when not signalled
  int32_t exit_signal = 0;        // kExit: the terminating signal, 0 if it exited normally
  uint64_t lost = 0;              // kLost: how many events were dropped
  std::string entrypoint;         // set when the process belongs to a shim-bpf entrypoint
};

absl::string_view EventKindName(EventKind kind);  // "snapshot", "fork", "exec", "exit", "lost"

// One line of JSON, without the trailing newline, e.g.
// {"event":"exec","ts_ns":123,"pid":42,"tgid":42,"ppid":1,"comm":"ls","filename":"/bin/ls",
//  "argv":["ls","-l"],"cgroup_id":7}
// Fields that do not apply to the kind are omitted.
std::string ToJsonLine(const ProcessEvent& event);
// The same as a JSON value (invalid UTF-8 is replaced when it is dumped).
nlohmann::ordered_json ToJsonValue(const ProcessEvent& event);

// Parses one line written by ToJsonLine. Unknown fields are ignored (forward compatibility);
// a missing "event" or a wrongly typed field is an error naming the field.
absl::StatusOr<ProcessEvent> FromJsonLine(absl::string_view line);

}  // namespace shim::trace
