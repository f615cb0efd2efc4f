// The processes that exist when tracing starts, read once from /proc so a tree is complete from
// its first frame. SnapshotProcesses() itself is declared in tracer.h (with Scope); these are its
// parts, exposed for tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "trace/process_event.h"
#include "trace/tracer.h"

namespace shim::trace {

struct ProcStat {
  int32_t pid = 0;
  std::string comm;
  int32_t ppid = 0;
  uint64_t start_ticks = 0;  // field 22: clock ticks after boot
};

// Parses /proc/PID/stat. comm may hold spaces and parentheses: it ends at the LAST ')'.
absl::StatusOr<ProcStat> ParseProcStat(absl::string_view stat);

// The path of the cgroup v2 from /proc/PID/cgroup (the "0::" line), e.g. "/a/b".
absl::StatusOr<std::string> ParseCgroup2Path(absl::string_view proc_cgroup);

// Reorders `events` so every process comes after its parent (when its parent is in the list);
// siblings in pid order. Processes whose parent is absent are roots.
std::vector<ProcessEvent> OrderParentsFirst(std::vector<ProcessEvent> events);

}  // namespace shim::trace
