// Fuzzes the ring-buffer record decoder: the records are untrusted bytes (a kernel-side bug or a
// future layout must produce an error, never a read out of bounds).
#include <cstddef>
#include <cstdint>

#include "trace/event_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<shim::trace::ProcessEvent> event = shim::trace::DecodeProcEvent(data, size);
  if (event.ok()) {
    // Whatever decodes must survive the JSON round trip used by --record/--replay.
    absl::StatusOr<shim::trace::ProcessEvent> back =
        shim::trace::FromJsonLine(shim::trace::ToJsonLine(*event));
    if (!back.ok()) __builtin_trap();
  }
  return 0;
}
