#include "common/privilege.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

namespace shim {
namespace {

bool HasEffective(const __user_cap_data_struct (&data)[2], int cap) {
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

}  // namespace

absl::Status CheckSupervisorPrivileges() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0) {
    return absl::InternalError("capget failed; cannot tell whether we are privileged");
  }
  std::vector<std::string> missing;
  if (!HasEffective(data, CAP_SYS_ADMIN)) missing.push_back("CAP_SYS_ADMIN");
  if (!HasEffective(data, CAP_BPF) && !HasEffective(data, CAP_SYS_ADMIN)) {
    missing.push_back("CAP_BPF");
  }
  if (!missing.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat("shim-bpf needs root (or ", absl::StrJoin(missing, " and "),
                     "): namespaces, cgroups and BPF programs are privileged operations"));
  }
  return absl::OkStatus();
}

}  // namespace shim
