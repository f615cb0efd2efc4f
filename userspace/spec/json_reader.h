// A strict JSON reader for spec files. nlohmann's DOM parser silently keeps the last of two
// duplicate keys and recurses without bound when destroying deep documents; a spec is hostile
// input, so this reader rejects duplicates (naming their JSON pointer), caps nesting depth and
// size, and reports syntax errors with line and column.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "spec/diagnostic.h"

namespace shim::spec {

inline constexpr size_t kMaxSpecBytes = 1 << 20;  // 1 MiB: far above any real spec
inline constexpr size_t kMaxJsonDepth = 32;       // a spec needs 7 levels

// Appends an escaped reference token (RFC 6901: "~" -> "~0", "/" -> "~1") to `pointer`.
std::string PointerAppend(absl::string_view pointer, absl::string_view token);

// Parses `text`. On any error returns nullopt and appends diagnostics (syntax errors at pointer
// "" with the line and column in the message; duplicate keys at their own pointer).
std::optional<nlohmann::ordered_json> ReadStrictJson(absl::string_view text,
                                             std::vector<Diagnostic>& diagnostics);

}  // namespace shim::spec
