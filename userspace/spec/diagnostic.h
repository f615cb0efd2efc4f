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

}  // namespace shim::spec
