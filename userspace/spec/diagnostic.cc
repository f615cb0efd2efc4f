#include "spec/diagnostic.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace shim::spec {

bool HasErrors(const std::vector<Diagnostic>& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

std::string FormatDiagnostic(const std::string& file, const Diagnostic& diagnostic) {
  std::string text =
      absl::StrCat(file, ":", diagnostic.pointer, diagnostic.pointer.empty() ? " " : ": ",
                   diagnostic.severity == Severity::kError ? "error: " : "warning: ",
                   diagnostic.message);
  if (!diagnostic.hint.empty()) absl::StrAppend(&text, "\n  hint: ", diagnostic.hint);
  return text;
}

std::string DiagnosticToJson(const Diagnostic& diagnostic) {
  nlohmann::ordered_json j;
  j["severity"] = diagnostic.severity == Severity::kError ? "error" : "warning";
  j["pointer"] = diagnostic.pointer;
  j["message"] = diagnostic.message;
  j["hint"] = diagnostic.hint;
  // Messages quote spec content, which may not be UTF-8 after a failed decode: replace.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace shim::spec
