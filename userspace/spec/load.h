// Reading a spec file: size and encoding checks, parsing, binary resolution and semantic
// validation, with every problem reported at once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "spec/diagnostic.h"
#include "spec/model.h"

namespace shim::spec {

struct LoadOptions {
  // `--binary`: replaces the spec's top-level binary (per-entrypoint overrides still win).
  std::optional<std::string> binary_override;
  // Check that granted host paths and binaries exist (off for pure schema/unit checks).
  bool check_host = true;
  // The host uid and gid voids run as (sandbox::VoidOptions), for the writable-grant check.
  uint32_t void_host_uid = 65534;
  uint32_t void_host_gid = 65534;
};

struct LoadResult {
  std::optional<Spec> spec;  // set when there are no errors (warnings allowed)
  std::vector<Diagnostic> diagnostics;
};

// Loads `path`. On success every Entrypoint has `binary_path` set to an absolute, existing,
// executable file and `spec.source_dir` is the spec file's folder.
LoadResult LoadSpecFile(const std::string& path, const LoadOptions& options = {});

// The same for text already in memory; `source_path` names it in messages and relative paths
// resolve against its folder.
LoadResult LoadSpecText(absl::string_view text, const std::string& source_path,
                        const LoadOptions& options = {});

}  // namespace shim::spec
