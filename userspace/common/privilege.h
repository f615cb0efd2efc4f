// What the running process may do, asked of the kernel rather than guessed from the uid.
#pragma once

#include "absl/status/status.h"

namespace shim {

// OK when the process holds the capabilities the supervisor needs (CAP_SYS_ADMIN and CAP_BPF, or
// CAP_SYS_ADMIN alone on kernels that predate CAP_BPF); otherwise a PermissionDenied naming what
// is missing.
absl::Status CheckSupervisorPrivileges();

}  // namespace shim
