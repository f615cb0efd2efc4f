// Built while the tracer library (userspace/trace/tracer.h) is not in this tree: live modes
// report that clearly instead of pretending.
#include "app/live.h"

namespace shim::forktop {

absl::StatusOr<LiveSource> OpenLiveSource(const LiveScope&, bool) {
  return absl::UnimplementedError(
      "live tracing is not in this build (the tracer is missing); use --replay FILE");
}

}  // namespace shim::forktop
