// Turns a failed system call into an absl::Status that names what was being done.
#pragma once

#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace shim {

// A Status for `what` failing with `err` (an errno value), e.g.
// "mount tmpfs root: Operation not permitted (EPERM)". The code follows the errno class.
absl::Status ErrnoStatus(absl::string_view what, int err);

// Same, with the current errno.
absl::Status ErrnoStatus(absl::string_view what);

}  // namespace shim
