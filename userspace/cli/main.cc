// shim-bpf: the command line. Each subcommand lives in its own file; this one only dispatches.
#include <CLI/CLI.hpp>

#include "version.h"

int main(int argc, char** argv) {
  CLI::App app{"shim-bpf: start each entrypoint of an application in its own void", "shim-bpf"};
  app.set_version_flag("--version", "shim-bpf " SHIM_BPF_VERSION);
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports usage errors with exit code 2 semantics via its own codes; normalise.
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return 0;
}
