#include "cli/run_flags.h"

#include "absl/time/time.h"

namespace shim::cli {

void AddSharedRunFlags(CLI::App* command, const std::shared_ptr<RunFlags>& flags, int& exit_code) {
  run::RunOptions& options = flags->options;
  command->add_option("spec", options.spec_path, "Spec file (JSON)")->required();
  command->add_option("--binary", options.binary,
                      "Binary to run, replacing the spec's top-level \"binary\"");
  command->add_option("--events", options.events_path,
                      "Write JSON Lines events (spawn, exit, refusals, denials) to FILE, or - for "
                      "stdout");
  command->add_option("--grace", flags->grace,
                      "On SIGINT/SIGTERM, how long running voids may finish before they are "
                      "killed (default 3s; a bare number is seconds)");
  command->add_option("trailing", options.trailing,
                      "Words after -- are passed to entrypoints with a \"Trailing\" arg");
  command->callback([flags, &exit_code] {
    // A bare number is seconds ("--grace 5"), as `sleep` and `timeout` read it.
    std::string text = flags->grace;
    if (!text.empty() && text.find_first_not_of("0123456789.") == std::string::npos) text += "s";
    absl::Duration grace;
    if (!absl::ParseDuration(text, &grace) || grace < absl::ZeroDuration()) {
      throw CLI::ValidationError("--grace", "expected a duration such as 3s, 500ms or 5 (seconds)");
    }
    flags->options.grace = grace;
    exit_code = run::RunSpec(flags->options);
  });
}

}  // namespace shim::cli
