// Adding context to an error from below: "<context>: <message>", with the code kept.
//
// The rule that keeps messages free of repeats ("entrypoint w: entrypoint 'w': ..."): a module
// adds only what it owns (its own step, the path or JSON pointer it was given), never what its
// caller will add (the entrypoint's name is said once, by the supervisor).
#pragma once

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace shim {

inline absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

}  // namespace shim
