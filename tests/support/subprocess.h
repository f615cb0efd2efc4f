// Runs a real program the way a user would and captures what it did: exit code or signal, stdout
// and stderr. For e2e tests that judge shim-bpf and forktop from the outside.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace shim::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the terminating signal, or 0
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs argv[0] (searched in PATH) with `argv`, feeding `input` on stdin, and waits at most
// `timeout` (then SIGKILLs the process group and sets timed_out).
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input = "",
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Paths of the built executables, e.g. BuiltBinary("shim-bpf").
std::string BuiltBinary(const std::string& name);
std::string SourcePath(const std::string& relative);

}  // namespace shim::testing
