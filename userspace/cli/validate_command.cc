// `shim-bpf validate SPEC...`: reads each spec as `run` would and reports every problem at once,
// like a compiler. Exit 0 when all are valid, 1 when any is invalid, 2 on usage errors.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "nlohmann/json.hpp"
#include "spec/load.h"

namespace shim::cli {
namespace {

struct ValidateFlags {
  std::vector<std::string> specs;
  std::optional<std::string> binary;
  bool json = false;
  bool no_host_checks = false;
};

int RunValidate(const ValidateFlags& flags) {
  spec::LoadOptions options;
  options.binary_override = flags.binary;
  options.check_host = !flags.no_host_checks;
  bool all_valid = true;
  nlohmann::ordered_json report = nlohmann::ordered_json::array();
  for (const std::string& path : flags.specs) {
    spec::LoadResult result = spec::LoadSpecFile(path, options);
    const bool valid = result.spec.has_value();
    all_valid = all_valid && valid;
    if (flags.json) {
      nlohmann::ordered_json file;
      file["file"] = path;
      file["valid"] = valid;
      file["entrypoints"] = valid ? result.spec->entrypoints.size() : 0;
      file["diagnostics"] = nlohmann::ordered_json::array();
      for (const spec::Diagnostic& d : result.diagnostics) {
        file["diagnostics"].push_back(nlohmann::ordered_json::parse(spec::DiagnosticToJson(d)));
      }
      report.push_back(std::move(file));
      continue;
    }
    for (const spec::Diagnostic& d : result.diagnostics) {
      std::fprintf(stderr, "%s\n", spec::FormatDiagnostic(path, d).c_str());
    }
    if (valid) {
      std::printf("%s: ok (%zu entrypoint%s)\n", path.c_str(), result.spec->entrypoints.size(),
                  result.spec->entrypoints.size() == 1 ? "" : "s");
    } else {
      size_t errors = 0;
      for (const spec::Diagnostic& d : result.diagnostics) {
        errors += d.severity == spec::Severity::kError ? 1 : 0;
      }
      std::fprintf(stderr, "%s: invalid (%zu error%s)\n", path.c_str(), errors,
                   errors == 1 ? "" : "s");
    }
  }
  if (flags.json) {
    std::printf("%s\n", report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  return all_valid ? 0 : 1;
}

}  // namespace

void RegisterValidateCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ValidateFlags>();
  CLI::App* command = app.add_subcommand(
      "validate", "Check spec files and report every problem with its JSON pointer");
  command->add_option("specs", flags->specs, "Spec files (JSON)")->required();
  command->add_option("--binary", flags->binary,
                      "Binary to check the specs against, as `run --binary` would use");
  command->add_flag("--json", flags->json, "Print one JSON report for machines");
  command->add_flag("--no-host-checks", flags->no_host_checks,
                    "Do not check that binaries and granted host paths exist");
  command->footer(
      "Exit status: 0 every spec is valid, 1 a spec is invalid, 2 usage error.\n"
      "Output: FILE:POINTER: error: MESSAGE, then a hint line, like a compiler.");
  command->callback([flags, &exit_code] { exit_code = RunValidate(*flags); });
}

}  // namespace shim::cli
