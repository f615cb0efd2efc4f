// The live event source (the BPF tracer), behind the EventSource interface.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "app/event_source.h"

namespace shim::forktop {

struct LiveScope {
  std::optional<int> pid;
  std::optional<std::string> cgroup;
  bool shim = false;
};

struct LiveSource {
  std::unique_ptr<EventSource> source;
  std::string description;                           // for the header, e.g. "pid 42 subtree"
  std::function<std::string(uint64_t)> cgroup_path;  // cgroup id -> path
};

// Starts tracing `scope`. With `snapshot_only` the source delivers the /proc snapshot and then
// finishes (--once).
absl::StatusOr<LiveSource> OpenLiveSource(const LiveScope& scope, bool snapshot_only);

}  // namespace shim::forktop
