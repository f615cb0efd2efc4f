// Turns one raw ring-buffer record of proc_events.bpf.c (struct shim_proc_event) into a
// ProcessEvent. Pure and bounds-checked: the bytes are treated as untrusted, so a wrong size,
// an unknown kind or flag, an unterminated comm/filename or an out-of-range length is an error,
// never a read past the record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trace/process_event.h"

namespace shim::trace {

absl::StatusOr<ProcessEvent> DecodeProcEvent(const void* data, size_t size);

// The NUL-separated argv head as the kernel side copied it. A last word without a NUL was cut
// by the size bound and is kept as it is.
std::vector<std::string> SplitArgs(const char* args, size_t len);

// task->exit_code as wait(2) encodes it: (status << 8) | signal, bit 7 = core dumped.
void DecodeExitCode(int32_t raw, ProcessEvent& event);

}  // namespace shim::trace
