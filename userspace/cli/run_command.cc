// `shim-bpf run SPEC [--binary PATH] [--events FILE|-] [--debug] [--trace] [--grace D]
//                    [-q] [--allow-degraded] [-- TRAILING...]`.
#include <memory>

#include "cli/commands.h"
#include "cli/run_flags.h"

namespace shim::cli {

void RegisterRunCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* command = app.add_subcommand(
      "run", "Start every entrypoint of a spec in its own void and supervise them");
  AddSharedRunFlags(command, flags, exit_code);
  run::RunOptions& options = flags->options;
  command->add_flag("--debug", options.debug,
                    "Each void stops itself (SIGSTOP) just before exec and its pid is printed");
  command->add_flag("--trace", options.trace,
                    "Add the run's process tree (every fork, exec and exit in every void, from "
                    "eBPF) to --events");
  command->add_flag("-q,--quiet", options.quiet,
                    "No start-up report and no live network denials on stderr");
  command->add_flag("--allow-degraded", options.allow_degraded,
                    "Run even if a network hook cannot attach (every missing guarantee is "
                    "printed)");
  command->footer(
      "Exit status: 0 every Startup entrypoint exited 0 (or stopped on a requested shutdown);\n"
      "N the first failing Startup entrypoint's exit code (128+S if killed by signal S);\n"
      "2 the run could not start (invalid spec, missing privilege or kernel feature).");
}

}  // namespace shim::cli
