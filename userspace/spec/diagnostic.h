// A problem found in a spec, located by a JSON pointer (RFC 6901) into the document.
#pragma once

#include <string>
#include <vector>

namespace shim::spec {

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string pointer;  // "" is the whole document; "/entrypoints/x/trigger"
  std::string message;  // what is wrong
  std::string hint;     // how to fix it; may be empty
};

bool HasErrors(const std::vector<Diagnostic>& diagnostics);

// Compiler-style text: "spec.json:/entrypoints/x/trigger: error: message" and, when there is a
// hint, a second line "  hint: ...". No trailing newline.
std::string FormatDiagnostic(const std::string& file, const Diagnostic& diagnostic);

// {"severity":"error","pointer":"/entrypoints/x","message":"...","hint":"..."}
std::string DiagnosticToJson(const Diagnostic& diagnostic);

}  // namespace shim::spec
