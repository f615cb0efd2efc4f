// What the running process may do, asked of the kernel rather than guessed from the uid.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace shim {

// OK when the process holds the capabilities the supervisor needs (CAP_SYS_ADMIN and CAP_BPF, or
// CAP_SYS_ADMIN alone on kernels that predate CAP_BPF); otherwise a PermissionDenied naming what
// is missing.
absl::Status CheckSupervisorPrivileges();

// Keeps only `keep` (CAP_* numbers) in the effective and permitted sets, and `dormant` in the
// permitted set only (raised for a moment with ScopedCapability), empties the inheritable and
// ambient sets, and drops every other capability from the bounding set, so no later exec of this
// process could regain them either. Irreversible.
absl::Status KeepOnlyCapabilities(const std::vector<int>& keep,
                                  const std::vector<int>& dormant = {});

// Raises a permitted capability into the calling thread's effective set for its scope, and
// lowers it again at the end (capabilities are per thread). Without it in the permitted set it
// does nothing: what it guards then fails as it would have.
class ScopedCapability {
 public:
  explicit ScopedCapability(int cap);
  ~ScopedCapability();
  ScopedCapability(const ScopedCapability&) = delete;
  ScopedCapability& operator=(const ScopedCapability&) = delete;

 private:
  int cap_;
  bool raised_ = false;
};

// "CAP_SYS_ADMIN" for CAP_SYS_ADMIN, "CAP_41" for numbers this build does not know.
std::string CapabilityName(int cap);

}  // namespace shim
