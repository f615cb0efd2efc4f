// Killing the processes of a cgroup directory tree and removing it, for v1 and v2 alike. v2 has
// cgroup.kill; v1 has only cgroup.procs, whose pids we signal through pidfds so a pid that was
// reused by an unrelated process after we read it is never signalled.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shim::cgroup {

// The pids listed in `dir`/cgroup.procs (this directory only). A missing dir gives an empty list.
absl::StatusOr<std::vector<pid_t>> CgroupProcs(const std::string& dir);

// True when `dir` or any cgroup beneath it lists a process.
bool TreeHasProcesses(const std::string& dir);

// SIGKILLs every process in the tree at `dir` and waits until no cgroup of the tree lists one, at
// most `timeout`. Uses cgroup.kill where the directory has one (v2, 5.14+), else signals each
// member via pidfd, repeating (members may fork meanwhile) until the tree is empty.
absl::Status KillTree(const std::string& dir, absl::Duration timeout = absl::Seconds(5));

// KillTree, then removes the directories depth first (retrying EBUSY briefly). A missing `dir` is
// not an error.
absl::Status RemoveTree(const std::string& dir, absl::Duration timeout = absl::Seconds(5));

}  // namespace shim::cgroup
