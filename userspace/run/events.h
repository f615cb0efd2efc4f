// Every `--events` line a run writes, built in one place (docs/events.md; docs/events.schema.json
// is the JSON Schema tests validate real output against). Each constructor returns the event as
// a JSON value; EventLog stamps "ts" and writes it. No event goes through JSON text on its way.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "net/firewall.h"
#include "nlohmann/json.hpp"
#include "trace/process_event.h"

namespace shim::run::events {

// In run_start: readers check it, and it changes only when a field changes meaning or goes away
// (fields are added without a change).
inline constexpr int kSchemaVersion = 1;

using Event = nlohmann::ordered_json;

Event RunStart(const std::string& run_id, const std::string& spec, pid_t supervisor_pid);
Event RunEnd(int exit_code);
Event Spawn(const std::string& entrypoint, const std::string& instance, pid_t pid,
            const std::string& cgroup);
Event SpawnFailed(const std::string& entrypoint, const std::string& instance,
                  const std::string& error);
Event TriggerRefused(const std::string& entrypoint, const std::string& error);

// How one instance ended.
struct ExitFacts {
  std::string entrypoint;
  std::string instance;
  pid_t pid = -1;
  std::optional<int> exit_code;  // exactly one of exit_code and signal
  std::optional<int> signal;
  double duration_ms = 0;
  std::optional<uint64_t> peak_memory_bytes;
  bool oom_killed = false;
  bool timed_out = false;
};
Event Exit(const ExitFacts& facts);

// A firewall report ("denial"): net::DenialFields, as the firewall names them.
Event Denial(const net::Denial& denial);

// A traced process event (--trace): "process_fork", "process_exec", "process_exit",
// "process_lost", with the kernel's monotonic time as "mono_ns".
Event Process(const trace::ProcessEvent& event);

}  // namespace shim::run::events
