// What `run` and `audit` share on the command line: the spec, --binary, --events, --grace and the
// trailing words, and running it. Each command adds its own flags on top.
#pragma once

#include <memory>

#include <CLI/CLI.hpp>

#include "run/supervisor.h"

namespace shim::cli {

struct RunFlags {
  run::RunOptions options;
  std::string grace = "3s";
};

// Adds the shared options to `command` and makes its callback run the spec, storing the exit
// status in `exit_code`.
void AddSharedRunFlags(CLI::App* command, const std::shared_ptr<RunFlags>& flags, int& exit_code);

}  // namespace shim::cli
