// Text that came from a void (a process name, argv, an abstract socket name, a path it made) on
// its way to a human's terminal: control characters could forge lines ("shim-bpf: ok") or drive
// the terminal (escape sequences). JSON output keeps the exact bytes; terminals get this.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace shim {

// `text` with every C0 control byte (newline and tab included), DEL, the UTF-8 encodings of the
// C1 controls (U+0080..U+009F) and bytes that are not valid UTF-8 written as `\xNN`, and a
// backslash as `\\` (so the escaping cannot be forged either). Printable UTF-8 is kept.
std::string ForTerminal(absl::string_view text);

}  // namespace shim
