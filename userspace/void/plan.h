// Everything a void needs, computed once per entrypoint by PreparedVoid::Prepare and only read
// afterwards (the child reads it after clone without allocating).
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/unique_fd.h"
#include "void/elf_deps.h"
#include "void/void.h"

namespace shim::sandbox {

// Where the new root is assembled inside the child's private mount namespace. Its host contents
// are hidden by the tmpfs only in that namespace; sources are opened before it is mounted.
inline constexpr char kStagingDir[] = "/tmp";
// Where shim-init is mounted in a void whose entrypoint says "init": true.
inline constexpr char kInitInVoid[] = "/.shim/init";

struct MountEntry {
  std::string host_path;  // canonical bind source, opened O_PATH (no symlink followed) in the
                          // child before the tmpfs hides it, and checked to be (dev, ino)
  std::string void_path;  // absolute path inside the void
  std::string target;     // kStagingDir + void_path
  std::vector<std::string> new_parents;  // staging-prefixed directories to create first
  bool directory = false;
  dev_t dev = 0;  // the inode host_path named when it was resolved at Prepare
  ino_t ino = 0;
  uint64_t attr_set = 0;  // MOUNT_ATTR_* applied recursively to the bind
  std::string what;       // for error messages: "grant /data", "library /lib/..."
};

// A fresh tmpfs per instance ({"Tmpfs": ...}); its mountpoint is made with the root.
struct TmpfsEntry {
  std::string void_path;
  std::string target;                    // kStagingDir + void_path
  std::vector<std::string> new_parents;  // staging-prefixed directories to create first
  std::string data;                      // mount options: mode, size, nr_inodes
};

struct LandlockRule {
  std::string void_path;
  uint64_t access = 0;
};

struct PreparedVoid::Plan {
  VoidOptions options;
  std::string entrypoint;
  // What execve runs: the binary at its own host path, or kInitInVoid with init.
  std::string exec_path;
  std::string binary_in_void;  // the binary's path in the void (its host path)
  bool init = false;
  std::string cwd = "/";  // the working directory the void starts in
  std::vector<TmpfsEntry> tmpfs;
  std::vector<std::string> env;  // "NAME=value", the whole environment of every instance
  std::vector<char*> envp;       // env's strings and a nullptr, for execve (made once)
  std::vector<DependencyBind> dependencies;
  std::vector<MountEntry> mounts;  // sorted so that a path's parents are mounted before it
  bool procfs = false;
  std::string proc_target;  // kStagingDir + "/proc"
  std::string hostname;
  std::string domainname;  // empty: left as the new UTS namespace has it ("(none)")
  bool network = false;    // the entrypoint has a network grant: stays in the host netns
  int empty_netns = -1;    // without network: the process-wide empty netns (never closed)
  // The void's root, built once: instances use this mount namespace instead of building one.
  // Not with Procfs (the kernel lets a user namespace mount proc only where a full proc is
  // already visible): those entrypoints build their mounts per instance. Built lazily, once
  // options.mount_template_after instances have been spawned (a Startup entrypoint that runs once
  // never pays for it); set once under template_mu, then only read.
  bool template_wanted = false;
  mutable std::mutex template_mu;
  mutable UniqueFd template_mntns;
  mutable absl::Status template_error;
  mutable std::atomic<int> template_fd{-1};
  mutable std::atomic<uint64_t> spawns{0};
  UniqueFd supervisor_pidfd;  // to notice a supervisor that died before PDEATHSIG was set
  // /proc/sys/vm/memfd_noexec opened for writing (none on kernels before 6.3, which lack it); the
  // child writes it for its own pid namespace.
  UniqueFd memfd_noexec;
  std::vector<sock_filter> seccomp;
  int landlock_abi = 0;
  uint64_t landlock_fs = 0, landlock_net = 0, landlock_scoped = 0;
  std::vector<LandlockRule> landlock_rules;
  int cap_last_cap = 40;
  // Signals the supervisor ignored when the entrypoint was prepared (bit sig - 1): the child
  // resets these to SIG_DFL; handled signals are reset by clone3 itself (CLONE_CLEAR_SIGHAND).
  uint64_t ignored_signals = 0;
  std::string uid_map, gid_map;
};

}  // namespace shim::sandbox
