// `shim-bpf audit SPEC [-- TRAILING...]`: runs the application like `run`, but with every
// entrypoint's network in audit mode (nothing denied, everything the policy would deny reported
// live), then prints a summary per entrypoint with a suggested `network` block that would have
// allowed exactly what was seen: a firewall's learning mode.
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "cli/commands.h"
#include "run/supervisor.h"

namespace shim::cli {

void RegisterAuditCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<run::RunOptions>();
  options->audit = true;
  auto grace = std::make_shared<std::string>("3s");
  CLI::App* command = app.add_subcommand(
      "audit", "Run a spec with every network policy in audit mode and suggest policies");
  command->add_option("spec", options->spec_path, "Spec file (JSON)")->required();
  command->add_option("--binary", options->binary,
                      "Binary to run, replacing the spec's top-level \"binary\"");
  command->add_option("--events", options->events_path,
                      "Also write JSON Lines events (incl. every audited denial) to FILE or -");
  command->add_option("--grace", *grace, "Shutdown grace period, as for run (default 3s)");
  command->add_option("trailing", options->trailing,
                      "Words after -- are passed to entrypoints with a \"Trailing\" arg");
  command->footer(
      "Every entrypoint gets the host network (an entrypoint without a \"network\" block gets an\n"
      "empty audited policy) so that what it tries can be seen. Stop it with Ctrl-C when the app\n"
      "has done what you want to learn from; the summary follows on stderr.\n"
      "Exit status: as for run.");
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
