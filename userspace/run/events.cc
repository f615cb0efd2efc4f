#include "run/events.h"

#include "absl/strings/str_cat.h"

namespace shim::run::events {

Event RunStart(const std::string& run_id, const std::string& spec, pid_t supervisor_pid) {
  Event e;
  e["event"] = "run_start";
  e["schema_version"] = kSchemaVersion;
  e["run_id"] = run_id;
  e["spec"] = spec;
  e["supervisor_pid"] = supervisor_pid;
  return e;
}

Event RunEnd(int exit_code) {
  Event e;
  e["event"] = "run_end";
  e["exit_code"] = exit_code;
  return e;
}

Event Spawn(const std::string& entrypoint, const std::string& instance, pid_t pid,
            const std::string& cgroup) {
  Event e;
  e["event"] = "spawn";
  e["entrypoint"] = entrypoint;
  e["instance"] = instance;
  e["pid"] = pid;
  e["cgroup"] = cgroup;
  return e;
}

Event SpawnFailed(const std::string& entrypoint, const std::string& instance,
                  const std::string& error) {
  Event e;
  e["event"] = "spawn_failed";
  e["entrypoint"] = entrypoint;
  e["instance"] = instance;
  e["error"] = error;
  return e;
}

Event TriggerRefused(const std::string& entrypoint, const std::string& error) {
  Event e;
  e["event"] = "trigger_refused";
  e["entrypoint"] = entrypoint;
  e["error"] = error;
  return e;
}

Event Exit(const ExitFacts& facts) {
  Event e;
  e["event"] = "exit";
  e["entrypoint"] = facts.entrypoint;
  e["instance"] = facts.instance;
  e["pid"] = facts.pid;
  if (facts.signal) {
    e["signal"] = *facts.signal;
  } else {
    e["exit_code"] = facts.exit_code.value_or(0);
  }
  e["duration_ms"] = facts.duration_ms;
  if (facts.peak_memory_bytes) e["peak_memory_bytes"] = *facts.peak_memory_bytes;
  if (facts.oom_killed) e["oom_killed"] = true;
  if (facts.timed_out) e["timed_out"] = true;
  return e;
}

Event Denial(const net::Denial& denial) { return net::DenialToJsonValue(denial); }

Event Process(const trace::ProcessEvent& event) {
  Event e = trace::ToJsonValue(event);
  e["event"] = absl::StrCat("process_", e["event"].get<std::string>());
  e.erase("ts_ns");  // EventLog stamps wall-clock time; the kernel's monotonic time stays
  e["mono_ns"] = event.timestamp_ns;
  return e;
}

}  // namespace shim::run::events
