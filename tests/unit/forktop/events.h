// Scripted events for forktop tests.
#pragma once

#include <string>
#include <vector>

#include "trace/process_event.h"

namespace shim::forktop::testing {

using trace::EventKind;
using trace::ProcessEvent;

constexpr uint64_t kSec = 1'000'000'000;

inline ProcessEvent Snapshot(uint64_t ts, int pid, int ppid, std::string comm,
                             std::vector<std::string> argv = {}) {
  ProcessEvent e;
  e.kind = EventKind::kSnapshot;
  e.timestamp_ns = ts;
  e.pid = e.tgid = pid;
  e.parent_tgid = ppid;
  e.comm = std::move(comm);
  e.argv = std::move(argv);
  return e;
}

inline ProcessEvent Fork(uint64_t ts, int pid, int ppid, std::string comm = "") {
  ProcessEvent e;
  e.kind = EventKind::kFork;
  e.timestamp_ns = ts;
  e.pid = e.tgid = pid;
  e.parent_tgid = ppid;
  e.comm = std::move(comm);
  return e;
}

inline ProcessEvent Thread(uint64_t ts, int tid, int tgid) {
  ProcessEvent e = Fork(ts, tid, tgid);
  e.tgid = tgid;
  e.is_thread = true;
  return e;
}

inline ProcessEvent Exec(uint64_t ts, int pid, std::string comm, std::string file,
                         std::vector<std::string> argv) {
  ProcessEvent e;
  e.kind = EventKind::kExec;
  e.timestamp_ns = ts;
  e.pid = e.tgid = pid;
  e.comm = std::move(comm);
  e.filename = std::move(file);
  e.argv = std::move(argv);
  return e;
}

inline ProcessEvent Exit(uint64_t ts, int pid, int code, int signal = 0) {
  ProcessEvent e;
  e.kind = EventKind::kExit;
  e.timestamp_ns = ts;
  e.pid = e.tgid = pid;
  e.exit_code = code;
  e.exit_signal = signal;
  return e;
}

inline ProcessEvent ThreadExit(uint64_t ts, int tid, int tgid) {
  ProcessEvent e = Exit(ts, tid, 0);
  e.tgid = tgid;
  e.is_thread = true;
  return e;
}

inline ProcessEvent Lost(uint64_t ts, uint64_t n) {
  ProcessEvent e;
  e.kind = EventKind::kLost;
  e.timestamp_ns = ts;
  e.lost = n;
  return e;
}

}  // namespace shim::forktop::testing
