#include "trace/process_event.h"

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace shim::trace {
namespace {

constexpr std::array<std::pair<EventKind, absl::string_view>, 5> kKindNames = {{
    {EventKind::kSnapshot, "snapshot"},
    {EventKind::kFork, "fork"},
    {EventKind::kExec, "exec"},
    {EventKind::kExit, "exit"},
    {EventKind::kLost, "lost"},
}};

// Reads an optional field of type T; a present field of the wrong type is an error.
template <typename T>
absl::Status ReadField(const nlohmann::json& object, const char* key, T& out) {
  auto it = object.find(key);
  if (it == object.end()) return absl::OkStatus();
  try {
    out = it->get<T>();
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError(absl::StrCat("event field \"", key, "\" has the wrong type"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view EventKindName(EventKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

nlohmann::ordered_json ToJsonValue(const ProcessEvent& event) {
  nlohmann::ordered_json j;
  j["event"] = std::string(EventKindName(event.kind));
  j["ts_ns"] = event.timestamp_ns;
  if (event.kind == EventKind::kLost) {
    j["lost"] = event.lost;
    return j;
  }
  j["pid"] = event.pid;
  j["tgid"] = event.tgid;
  j["ppid"] = event.parent_tgid;
  if (event.is_thread) j["thread"] = true;
  j["comm"] = event.comm;
  if (event.cgroup_id != 0) j["cgroup_id"] = event.cgroup_id;
  if (!event.filename.empty()) j["filename"] = event.filename;
  if (!event.argv.empty()) j["argv"] = event.argv;
  if (event.kind == EventKind::kExit) {
    j["exit_code"] = event.exit_code;
    j["exit_signal"] = event.exit_signal;
  }
  if (!event.entrypoint.empty()) j["entrypoint"] = event.entrypoint;
  return j;
}

std::string ToJsonLine(const ProcessEvent& event) {
  // comm and argv come from untrusted processes and need not be UTF-8: replace, never throw.
  return ToJsonValue(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<ProcessEvent> FromJsonLine(absl::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("event line is not a JSON object");
  }
  std::string kind_name;
  if (absl::Status s = ReadField(j, "event", kind_name); !s.ok()) return s;
  ProcessEvent event;
  bool known = false;
  for (const auto& [kind, name] : kKindNames) {
    if (name == kind_name) {
      event.kind = kind;
      known = true;
    }
  }
  if (!known) {
    return absl::InvalidArgumentError(
        absl::StrCat("event line has a missing or unknown \"event\": \"", kind_name, "\""));
  }
  for (absl::Status s : {ReadField(j, "ts_ns", event.timestamp_ns), ReadField(j, "pid", event.pid),
                         ReadField(j, "tgid", event.tgid), ReadField(j, "ppid", event.parent_tgid),
                         ReadField(j, "thread", event.is_thread),
                         ReadField(j, "cgroup_id", event.cgroup_id),
                         ReadField(j, "comm", event.comm), ReadField(j, "filename", event.filename),
                         ReadField(j, "argv", event.argv),
                         ReadField(j, "exit_code", event.exit_code),
                         ReadField(j, "exit_signal", event.exit_signal),
                         ReadField(j, "lost", event.lost),
                         ReadField(j, "entrypoint", event.entrypoint)}) {
    if (!s.ok()) return s;
  }
  return event;
}

}  // namespace shim::trace
