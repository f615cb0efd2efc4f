// Everything a void needs, computed once per entrypoint by PreparedVoid::Prepare and only read
// afterwards (the child reads it after clone without allocating).
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "void/elf_deps.h"
#include "void/void.h"

namespace shim::sandbox {

// Where the new root is assembled inside the child's private mount namespace. Its host contents
// are hidden by the tmpfs only in that namespace; sources are opened before it is mounted.
inline constexpr char kStagingDir[] = "/tmp";
inline constexpr char kBinaryInVoid[] = "/entrypoint";

struct MountEntry {
  std::string host_path;  // bind source, opened O_PATH in the child before the tmpfs hides it
  std::string void_path;  // absolute path inside the void
  std::string target;     // kStagingDir + void_path
  std::vector<std::string> new_parents;  // staging-prefixed directories to create first
  bool directory = false;
  uint64_t attr_set = 0;  // MOUNT_ATTR_* applied recursively to the bind
  std::string what;       // for error messages: "grant /data", "library /lib/..."
};

struct LandlockRule {
  std::string void_path;
  uint64_t access = 0;
};

struct PreparedVoid::Plan {
  VoidOptions options;
  std::string entrypoint;
  std::vector<DependencyBind> dependencies;
  std::vector<MountEntry> mounts;  // sorted so that a path's parents are mounted before it
  bool procfs = false;
  std::string proc_target;  // kStagingDir + "/proc"
  std::string hostname;
  std::string domainname;  // empty: left as the new UTS namespace has it ("(none)")
  bool network = false;    // the entrypoint has a network grant: stays in the host netns
  UniqueFd empty_netns;    // without network: the shared, empty, unconfigurable netns
  // The void's root, built once: instances copy this mount namespace instead of building one.
  // Not with Procfs (the kernel lets a user namespace mount proc only where a full proc is
  // already visible): those entrypoints build their mounts per instance.
  UniqueFd template_mntns;
  UniqueFd supervisor_pidfd;  // to notice a supervisor that died before PDEATHSIG was set
  std::vector<sock_filter> seccomp;
  int landlock_abi = 0;
  uint64_t landlock_fs = 0, landlock_net = 0, landlock_scoped = 0;
  std::vector<LandlockRule> landlock_rules;
  int cap_last_cap = 40;
  std::string uid_map, gid_map;
};

}  // namespace shim::sandbox
