// Landlock definitions up to ABI 6 (Debian's kernel headers stop at ABI 1) and the access masks a
// void's rules use. The raw system calls are wrapped here so that the child can call them without
// allocating.
#pragma once

#include <linux/landlock.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace shim::sandbox::landlock {

inline constexpr uint64_t kExecute = 1ULL << 0;
inline constexpr uint64_t kWriteFile = 1ULL << 1;
inline constexpr uint64_t kReadFile = 1ULL << 2;
inline constexpr uint64_t kReadDir = 1ULL << 3;
inline constexpr uint64_t kRemoveDir = 1ULL << 4;
inline constexpr uint64_t kRemoveFile = 1ULL << 5;
inline constexpr uint64_t kMakeChar = 1ULL << 6;
inline constexpr uint64_t kMakeDir = 1ULL << 7;
inline constexpr uint64_t kMakeReg = 1ULL << 8;
inline constexpr uint64_t kMakeSock = 1ULL << 9;
inline constexpr uint64_t kMakeFifo = 1ULL << 10;
inline constexpr uint64_t kMakeBlock = 1ULL << 11;
inline constexpr uint64_t kMakeSym = 1ULL << 12;
inline constexpr uint64_t kRefer = 1ULL << 13;     // ABI 2
inline constexpr uint64_t kTruncate = 1ULL << 14;  // ABI 3
inline constexpr uint64_t kIoctlDev = 1ULL << 15;  // ABI 5

inline constexpr uint64_t kNetBindTcp = 1ULL << 0;     // ABI 4
inline constexpr uint64_t kNetConnectTcp = 1ULL << 1;  // ABI 4

inline constexpr uint64_t kScopeAbstractUnixSocket = 1ULL << 0;  // ABI 6
inline constexpr uint64_t kScopeSignal = 1ULL << 1;              // ABI 6

// Rights that apply to files (the rest apply to directories only).
inline constexpr uint64_t kFileRights = kExecute | kWriteFile | kReadFile | kTruncate | kIoctlDev;
inline constexpr uint64_t kReadOnly = kReadFile | kReadDir;
inline constexpr uint64_t kReadWrite = kReadFile | kReadDir | kWriteFile | kRemoveDir |
                                       kRemoveFile | kMakeDir | kMakeReg | kMakeSock | kMakeFifo |
                                       kMakeSym | kRefer | kTruncate;

struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;  // ABI 4
  uint64_t scoped;              // ABI 6
};

struct PathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

inline constexpr int kRulePathBeneath = 1;

// The ABI version the kernel offers, or 0 when Landlock is unavailable.
inline int AbiVersion() {
  long v = syscall(SYS_landlock_create_ruleset, nullptr, 0, 1U /* _VERSION */);
  return v < 0 ? 0 : static_cast<int>(v);
}

// Every filesystem right the given ABI knows.
inline uint64_t HandledFs(int abi) {
  uint64_t fs = (kMakeSym << 1) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) fs |= kRefer;
  if (abi >= 3) fs |= kTruncate;
  if (abi >= 5) fs |= kIoctlDev;
  return fs;
}

// The size of RulesetAttr the given ABI understands.
inline size_t RulesetAttrSize(int abi) {
  if (abi >= 6) return sizeof(RulesetAttr);
  if (abi >= 4) return offsetof(RulesetAttr, scoped);
  return offsetof(RulesetAttr, handled_access_net);
}

}  // namespace shim::sandbox::landlock
