// What the host's cgroup filesystems look like from this process: the v2 mount and every v1
// hierarchy, each with the directory this process currently sits in. Read from
// /proc/self/cgroup and /proc/self/mountinfo beneath an injectable root, so the planning logic can
// be tested against a fake tree in a temporary directory.
#pragma once

#include <sys/types.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace shim::cgroup {

// One mounted cgroup hierarchy (v1 or v2) and this process's place in it.
struct Hierarchy {
  bool v2 = false;
  std::set<std::string> controllers;  // v1: from the mount options (e.g. {"cpu","cpuacct"})
  std::string mount_point;            // absolute, with the root prefix applied
  std::string own_dir;                // absolute directory of this process's cgroup
  bool own_is_root = false;           // own_dir is the hierarchy's root cgroup
};

struct Host {
  std::string root = "/";  // the filesystem root everything was read beneath
  pid_t self_pid = 0;      // the process whose cgroups these are
  std::optional<Hierarchy> v2;
  std::vector<Hierarchy> v1;

  // The v1 hierarchy carrying `controller`, if one is mounted and this process is in it.
  const Hierarchy* V1With(const std::string& controller) const;
};

// Reads `<root>/proc/self/cgroup` and `<root>/proc/self/mountinfo` (or /proc/<pid>/... when
// `pid` is given; `self_pid` is then `pid`, else getpid()) and prefixes mount points with `root`.
absl::StatusOr<Host> DetectHost(const std::string& root = "/", std::optional<pid_t> pid = {});

}  // namespace shim::cgroup
