#include "common/privilege.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

std::string CapabilityName(int cap) {
  static constexpr const char* kNames[] = {
      "CAP_CHOWN",        "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
      "CAP_FSETID",       "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
      "CAP_SETPCAP",      "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
      "CAP_NET_ADMIN",    "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
      "CAP_SYS_MODULE",   "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
      "CAP_SYS_PACCT",    "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
      "CAP_SYS_RESOURCE", "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
      "CAP_LEASE",        "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
      "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
      "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",    "CAP_PERFMON",         "CAP_BPF",
      "CAP_CHECKPOINT_RESTORE"};
  if (cap >= 0 && cap < static_cast<int>(sizeof(kNames) / sizeof(kNames[0]))) return kNames[cap];
  return absl::StrCat("CAP_", cap);
}

absl::Status KeepOnlyCapabilities(const std::vector<int>& keep, const std::vector<int>& dormant) {
  auto kept = [&keep, &dormant](int cap) {
    for (const auto* list : {&keep, &dormant}) {
      for (int k : *list) {
        if (k == cap) return true;
      }
    }
    return false;
  };
  // The bounding set first: dropping from it needs CAP_SETPCAP, which goes next.
  for (int cap = 0; cap < 64; ++cap) {
    if (kept(cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return absl::InternalError(absl::StrCat("PR_CAPBSET_DROP ", CapabilityName(cap), ": ",
                                              strerror(errno)));
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return absl::InternalError(absl::StrCat("PR_CAP_AMBIENT_CLEAR_ALL: ", strerror(errno)));
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int cap : keep) {
    if (cap < 0 || cap >= 64) continue;
    data[cap / 32].effective |= 1u << (cap % 32);
    data[cap / 32].permitted |= 1u << (cap % 32);
  }
  for (int cap : dormant) {
    if (cap < 0 || cap >= 64) continue;
    data[cap / 32].permitted |= 1u << (cap % 32);
  }
  if (syscall(SYS_capset, &header, data) != 0) {
    return absl::InternalError(absl::StrCat("capset: ", strerror(errno)));
  }
  return absl::OkStatus();
}

namespace {

// Sets or clears `cap` in the calling thread's effective set; false when it is not permitted.
bool SetEffective(int cap, bool on) {
  if (cap < 0 || cap >= 64) return false;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  const uint32_t bit = 1u << (cap % 32);
  if ((data[cap / 32].permitted & bit) == 0) return false;
  if (((data[cap / 32].effective & bit) != 0) == on) return false;  // nothing to change
  if (on) {
    data[cap / 32].effective |= bit;
  } else {
    data[cap / 32].effective &= ~bit;
  }
  return syscall(SYS_capset, &header, data) == 0;
}

}  // namespace

ScopedCapability::ScopedCapability(int cap) : cap_(cap), raised_(SetEffective(cap, true)) {}

ScopedCapability::~ScopedCapability() {
  if (raised_) SetEffective(cap_, false);
}

}  // namespace shim
