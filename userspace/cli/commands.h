// Each shim-bpf subcommand lives in its own file and registers itself here. A registrar adds its
// CLI11 subcommand to `app`; when that subcommand is chosen, its callback runs the command and
// stores the process exit code in `exit_code` (0 ok, 1 the command's own failure, 2 usage or
// environment error).
#pragma once

#include <CLI/CLI.hpp>

namespace shim::cli {

// One line per subcommand, in the order `--help` lists them:
void RegisterRunCommand(CLI::App& app, int& exit_code);
void RegisterAuditCommand(CLI::App& app, int& exit_code);
void RegisterValidateCommand(CLI::App& app, int& exit_code);

}  // namespace shim::cli
