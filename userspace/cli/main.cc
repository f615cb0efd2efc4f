// shim-bpf: the command line. Each subcommand lives in its own file (commands.h); this file only
// dispatches and turns usage errors into exit code 2.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "cli/commands.h"
#include "version.h"

namespace {

int Main(int argc, char** argv) {
  CLI::App app{"shim-bpf: start each entrypoint of an application in its own void", "shim-bpf"};
  app.set_version_flag("--version", "shim-bpf " SHIM_BPF_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;  // set by the chosen subcommand's callback
  shim::cli::RegisterRunCommand(app, exit_code);
  shim::cli::RegisterAuditCommand(app, exit_code);
  shim::cli::RegisterValidateCommand(app, exit_code);
  // CLI11 reports an unknown subcommand only as "A subcommand is required"; name it instead.
  std::string known;
  bool is_known = false;
  for (const CLI::App* command : app.get_subcommands({})) {
    known += (known.empty() ? "" : ", ") + command->get_name();
    is_known = is_known || (argc > 1 && command->get_name() == argv[1]);
  }
  if (argc > 1 && argv[1][0] != '-' && !is_known) {
    std::fprintf(stderr, "shim-bpf: unknown subcommand '%s' (expected one of: %s)\n", argv[1],
                 known.c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help/version, or the usage error
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    // Commands report failures as Status values; this is only the last line against a library
    // exception (e.g. std::bad_alloc) ending the process without a word.
    std::fprintf(stderr, "shim-bpf: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "shim-bpf: unknown exception\n");
  }
  return 2;
}
