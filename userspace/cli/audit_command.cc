// `shim-bpf audit SPEC [-- TRAILING...]`: runs the application like `run`, but with every
// entrypoint's network in audit mode (nothing denied, everything the policy would deny reported
// live), then prints a summary per entrypoint with a suggested `network` block that would have
// allowed exactly what was seen: a firewall's learning mode.
#include <memory>

#include "cli/commands.h"
#include "cli/run_flags.h"

namespace shim::cli {

void RegisterAuditCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<RunFlags>();
  flags->options.audit = true;
  CLI::App* command = app.add_subcommand(
      "audit", "Run a spec with every network policy in audit mode and suggest policies");
  AddSharedRunFlags(command, flags, exit_code);
  command->footer(
      "Every entrypoint gets the host network (an entrypoint without a \"network\" block gets an\n"
      "empty audited policy) so that what it tries can be seen. Stop it with Ctrl-C when the app\n"
      "has done what you want to learn from; the summary follows on stderr.\n"
      "Exit status: as for run.");
}

}  // namespace shim::cli
