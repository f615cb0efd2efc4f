// `shim-bpf run`: starts every Startup entrypoint of a spec in its own void, starts a fresh void
// per message or fd batch of every triggered entrypoint, and supervises them all until every
// Startup entrypoint has ended and nothing is left to handle, or until SIGINT/SIGTERM.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace shim::run {

struct RunOptions {
  std::string spec_path;
  std::optional<std::string> binary;  // --binary: replaces the spec's top-level binary
  std::string events_path;            // --events FILE|-; "" for none
  bool debug = false;                 // --debug: each void stops itself before exec
  std::vector<std::string> trailing;  // the words after --
  absl::Duration grace = absl::Seconds(3);  // --grace: how long a shutdown waits before killing
  bool quiet = false;                       // no start-up report or live denials on stderr
  bool audit = false;           // `shim-bpf audit`: every entrypoint's network in audit mode
  bool allow_degraded = false;  // run even if a network hook cannot attach (said loudly)
  bool trace = false;           // --trace: the run's process tree (eBPF) into --events
};

// Exit status of the run, documented in the README:
//   0    every Startup entrypoint exited 0 (or was stopped by a requested shutdown)
//   N    the first Startup entrypoint that failed exited N (128+S when killed by signal S)
//   2    the run could not start: invalid spec, missing privilege or kernel feature, a void
//        that could not be built
// With `audit`, prints the network summary and suggested `network` blocks at the end.
int RunSpec(const RunOptions& options);

}  // namespace shim::run
