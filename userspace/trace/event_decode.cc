#include "trace/event_decode.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "proc_events.h"

namespace shim::trace {
namespace {

// The string in `field` up to its first NUL; an error if there is none within `size`.
absl::StatusOr<std::string> TerminatedString(const char* field, size_t size,
                                             absl::string_view what) {
  const void* nul = std::memchr(field, '\0', size);
  if (nul == nullptr) return absl::InvalidArgumentError(absl::StrCat(what, " is not terminated"));
  return std::string(field, static_cast<const char*>(nul) - field);
}

}  // namespace

std::vector<std::string> SplitArgs(const char* args, size_t len) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start < len) {
    const void* nul = std::memchr(args + start, '\0', len - start);
    size_t end = nul == nullptr ? len : static_cast<size_t>(static_cast<const char*>(nul) - args);
    words.emplace_back(args + start, end - start);
    start = end + 1;
  }
  return words;
}

void DecodeExitCode(int32_t raw, ProcessEvent& event) {
  event.exit_signal = raw & 0x7f;
  event.exit_code = event.exit_signal != 0 ? 0 : (raw >> 8) & 0xff;
}

absl::StatusOr<ProcessEvent> DecodeProcEvent(const void* data, size_t size) {
  if (data == nullptr || size < SHIM_PROC_HEADER_SIZE) {
    return absl::InvalidArgumentError(
        absl::StrCat("proc event record of ", size, " bytes is shorter than its header"));
  }
  shim_proc_event raw{};
  // memcpy: the ring buffer gives no alignment promise we want to rely on.
  std::memcpy(&raw, data, SHIM_PROC_HEADER_SIZE);
  const size_t expected = raw.kind == SHIM_PROC_EXEC ? sizeof(raw) : SHIM_PROC_HEADER_SIZE;
  if (raw.kind != SHIM_PROC_FORK && raw.kind != SHIM_PROC_EXEC && raw.kind != SHIM_PROC_EXIT) {
    return absl::InvalidArgumentError(absl::StrCat("unknown proc event kind ", raw.kind));
  }
  if (size != expected) {
    return absl::InvalidArgumentError(absl::StrCat("proc event record of kind ", raw.kind, " has ",
                                                   size, " bytes, expected ", expected));
  }
  if ((raw.flags & ~SHIM_PROC_FLAG_THREAD) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("unknown proc event flags ", raw.flags));
  }
  if (raw.kind == SHIM_PROC_EXEC) std::memcpy(&raw, data, sizeof(raw));

  ProcessEvent event;
  event.timestamp_ns = raw.ts_ns;
  event.pid = raw.pid;
  event.tgid = raw.tgid;
  event.parent_tgid = raw.parent_tgid;
  event.cgroup_id = raw.cgroup_id;
  event.is_thread = (raw.flags & SHIM_PROC_FLAG_THREAD) != 0;
  auto comm = TerminatedString(raw.comm, sizeof(raw.comm), "comm");
  if (!comm.ok()) return comm.status();
  event.comm = *std::move(comm);

  switch (raw.kind) {
    case SHIM_PROC_FORK:
      event.kind = EventKind::kFork;
      break;
    case SHIM_PROC_EXIT:
      event.kind = EventKind::kExit;
      DecodeExitCode(raw.exit_code, event);
      break;
    case SHIM_PROC_EXEC: {
      event.kind = EventKind::kExec;
      if (raw.filename_len > sizeof(raw.filename) || raw.args_len > sizeof(raw.args)) {
        return absl::InvalidArgumentError(
            absl::StrCat("exec record lengths out of range: filename ", raw.filename_len, ", args ",
                         raw.args_len));
      }
      if (raw.filename_len > 0) {
        auto filename = TerminatedString(raw.filename, raw.filename_len, "exec filename");
        if (!filename.ok()) return filename.status();
        event.filename = *std::move(filename);
      }
      event.argv = SplitArgs(raw.args, raw.args_len);
      break;
    }
  }
  return event;
}

}  // namespace shim::trace
