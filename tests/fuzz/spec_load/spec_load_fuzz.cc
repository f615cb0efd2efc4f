// Fuzzes the whole spec pipeline (strict JSON reader, parser, validator, path resolution) with
// arbitrary bytes. Properties checked besides "no crash, no UB, no leak": a spec is returned
// exactly when no error was reported, and every diagnostic renders to text and JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "spec/load.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  shim::spec::LoadOptions options;
  options.check_host = false;  // no file system access per input: fast and deterministic
  shim::spec::LoadResult result = shim::spec::LoadSpecText(text, "/fuzz/spec.json", options);
  if (result.spec.has_value() == shim::spec::HasErrors(result.diagnostics)) std::abort();
  for (const shim::spec::Diagnostic& diagnostic : result.diagnostics) {
    if (shim::spec::FormatDiagnostic("f", diagnostic).empty()) std::abort();
    if (shim::spec::DiagnosticToJson(diagnostic).empty()) std::abort();
  }
  if (result.spec) {
    for (const shim::spec::Entrypoint& entrypoint : result.spec->entrypoints) {
      if (entrypoint.binary_path.empty() || entrypoint.binary_path[0] != '/') std::abort();
    }
  }
  return 0;
}
