// What the fault and soak tests observe from the outside: a process's fds, memory and CPU time,
// the processes and directories left in a run's cgroups, and the BPF programs attached to a
// cgroup (through bpftool, as an operator would look).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace shim::testing {

// Entries of /proc/PID/fd, or -1 when the process is gone.
int FdCount(pid_t pid);
// VmRSS of /proc/PID/status in KiB, or -1.
long RssKib(pid_t pid);
// utime + stime of /proc/PID/stat in clock ticks, or -1.
long CpuTicks(pid_t pid);

// Every pid listed in a cgroup.procs file anywhere beneath the run's cgroup dirs (all
// hierarchies), without duplicates.
std::vector<pid_t> ProcsOfRun(const std::string& run_id);
// How many directories the run has beneath /sys/fs/cgroup (its dirs and all their descendants).
int CgroupDirCountOfRun(const std::string& run_id);
// The run's cgroup v2 directory ("" when it is gone).
std::string V2DirOfRun(const std::string& run_id);

struct AttachedProg {
  uint32_t id = 0;
  std::string name;
  std::string attach_type;
};
// `bpftool -j cgroup show DIR`: the programs attached directly to that cgroup.
std::vector<AttachedProg> ProgsAttachedTo(const std::string& cgroup_dir);
// True while the kernel still knows a BPF program with this id (`bpftool prog show id ID`).
bool ProgExists(uint32_t id);

// True in the ASan build (-DSHIM_SANITIZE=ON). Freed memory sits in ASan's quarantine there, so
// RSS says nothing about leaks (LeakSanitizer does): RSS checks are skipped, others still run.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif
#else
inline constexpr bool kAsan = false;
#endif

// SHIM_SOAK_SCALE=full (scripts/test.sh --long).
bool FullSoak();

}  // namespace shim::testing
