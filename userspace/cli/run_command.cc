// `shim-bpf run SPEC [--binary PATH] [--events FILE|-] [--debug] [--grace D] [-- TRAILING...]`.
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "cli/commands.h"
#include "run/supervisor.h"

namespace shim::cli {

void RegisterRunCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<run::RunOptions>();
  auto grace = std::make_shared<std::string>("3s");
  CLI::App* command = app.add_subcommand(
      "run", "Start every entrypoint of a spec in its own void and supervise them");
  command->add_option("spec", options->spec_path, "Spec file (JSON)")->required();
  command->add_option("--binary", options->binary,
                      "Binary to run, replacing the spec's top-level \"binary\"");
  command->add_option("--events", options->events_path,
                      "Write JSON Lines events (spawn, exit, refusals) to FILE, or - for stdout");
  command->add_flag("--debug", options->debug,
                    "Each void stops itself (SIGSTOP) just before exec and its pid is printed");
  command->add_option("--grace", *grace,
                      "On SIGINT/SIGTERM, how long running voids may finish before they are "
                      "killed (default 3s)");
  command->add_flag("--trace", options->trace,
                    "Add the run's process tree (every fork, exec and exit in every void, from "
                    "eBPF) to --events");
  command->add_flag("-q,--quiet", options->quiet,
                    "No start-up report and no live network denials on stderr");
  command->add_flag("--allow-degraded", options->allow_degraded,
                    "Run even if a network hook cannot attach (every missing guarantee is "
                    "printed)");
  command->add_option("trailing", options->trailing,
                      "Words after -- are passed to entrypoints with a \"Trailing\" arg");
  command->footer(
      "Exit status: 0 every Startup entrypoint exited 0 (or stopped on a requested shutdown);\n"
      "N the first failing Startup entrypoint's exit code (128+S if killed by signal S);\n"
      "2 the run could not start (invalid spec, missing privilege or kernel feature).");
  command->callback([options, grace, &exit_code] {
    absl::Duration duration;
    if (!absl::ParseDuration(*grace, &duration) || duration < absl::ZeroDuration()) {
      throw CLI::ValidationError("--grace", "expected a duration such as 3s or 500ms");
    }
    options->grace = duration;
    exit_code = run::RunSpec(*options);
  });
}

}  // namespace shim::cli
