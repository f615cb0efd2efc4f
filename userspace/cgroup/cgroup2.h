// The cgroup v2 hierarchy: where it is mounted, where this process sits in it, and owned child
// cgroups. v2 carries CLONE_INTO_CGROUP, cgroup.kill, cgroup.events and BPF attachment even on
// hybrid hosts whose memory/pids/cpu controllers live in v1 hierarchies.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace shim {

// The mount point of the cgroup2 filesystem, read from /proc/self/mountinfo (it is not always
// /sys/fs/cgroup: hybrid hosts mount it at /sys/fs/cgroup/unified).
absl::StatusOr<std::string> FindCgroup2Mount();

// Absolute path of the cgroup v2 directory this process belongs to.
absl::StatusOr<std::string> OwnCgroup2Dir();

// The kernel's id of a cgroup v2 directory, as bpf_get_current_cgroup_id() reports it.
absl::StatusOr<uint64_t> CgroupIdOf(const std::string& dir);

// Kills every process in the cgroup tree at `dir`, waits for it to empty, and removes the
// directories depth first. Missing directories are not an error.
absl::Status RemoveCgroupTree(const std::string& dir);

// A cgroup v2 directory this process created and owns: on destruction its processes are killed
// and the tree is removed.
class OwnedCgroup {
 public:
  // Creates `parent/name`. Fails with AlreadyExists if it is there already.
  static absl::StatusOr<OwnedCgroup> Create(const std::string& parent, absl::string_view name);

  OwnedCgroup(OwnedCgroup&& other) noexcept;
  OwnedCgroup& operator=(OwnedCgroup&& other) noexcept;
  OwnedCgroup(const OwnedCgroup&) = delete;
  OwnedCgroup& operator=(const OwnedCgroup&) = delete;
  ~OwnedCgroup();

  const std::string& path() const { return path_; }
  uint64_t id() const { return id_; }
  // An O_DIRECTORY fd, for CLONE_INTO_CGROUP and BPF attachment.
  int dir_fd() const { return dir_fd_.get(); }

  absl::Status AddProcess(pid_t pid) const;
  // Kills everything inside (cgroup.kill) and removes the tree now.
  absl::Status Remove();

 private:
  OwnedCgroup(std::string path, uint64_t id, UniqueFd dir_fd)
      : path_(std::move(path)), id_(id), dir_fd_(std::move(dir_fd)) {}

  std::string path_;
  uint64_t id_ = 0;
  UniqueFd dir_fd_;
};

}  // namespace shim
