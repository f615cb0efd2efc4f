#include "cgroup/members.h"

#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errno_status.h"
#include "common/file_util.h"
#include "common/pidfd.h"
#include "common/status_macros.h"
#include "common/unique_fd.h"

namespace shim::cgroup {

namespace {

std::vector<std::string> ChildDirs(const std::string& dir) {
  std::vector<std::string> children;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return children;
  while (dirent* entry = readdir(d)) {
    absl::string_view name = entry->d_name;
    if (entry->d_type == DT_DIR && name != "." && name != "..") {
      children.push_back(absl::StrCat(dir, "/", name));
    }
  }
  closedir(d);
  return children;
}

// Every directory of the tree, parents before children.
void CollectTree(const std::string& dir, std::vector<std::string>& out) {
  out.push_back(dir);
  for (const std::string& child : ChildDirs(dir)) CollectTree(child, out);
}

// Signals the members of one directory by pidfd; a member that is gone by then is skipped.
void SignalMembers(const std::string& dir) {
  absl::StatusOr<std::vector<pid_t>> pids = CgroupProcs(dir);
  if (!pids.ok()) return;
  for (pid_t pid : *pids) {
    UniqueFd pidfd(PidfdOpen(pid));
    if (!pidfd) continue;  // exited already
    // The pidfd pins one process. If that pid is (still) listed, the pinned process is the
    // member: a reused pid cannot appear while the pinned process lives.
    absl::StatusOr<std::vector<pid_t>> again = CgroupProcs(dir);
    if (!again.ok() || std::find(again->begin(), again->end(), pid) == again->end()) continue;
    (void)PidfdSendSignal(pidfd.get(), SIGKILL);
  }
}

}  // namespace

absl::StatusOr<std::vector<pid_t>> CgroupProcs(const std::string& dir) {
  std::vector<pid_t> pids;
  absl::StatusOr<std::string> content = ReadFileToString(dir + "/cgroup.procs");
  if (!content.ok()) {
    if (absl::IsNotFound(content.status())) return pids;
    return content.status();
  }
  for (absl::string_view w : absl::StrSplit(*content, '\n', absl::SkipEmpty())) {
    int pid = 0;
    if (absl::SimpleAtoi(w, &pid) && pid > 0) pids.push_back(pid);
  }
  return pids;
}

bool TreeHasProcesses(const std::string& dir) {
  std::vector<std::string> dirs;
  CollectTree(dir, dirs);
  for (const std::string& d : dirs) {
    absl::StatusOr<std::vector<pid_t>> pids = CgroupProcs(d);
    if (pids.ok() && !pids->empty()) return true;
  }
  return false;
}

absl::Status KillTree(const std::string& dir, absl::Duration timeout) {
  if (access(dir.c_str(), F_OK) != 0) return absl::OkStatus();
  if (!TreeHasProcesses(dir)) return absl::OkStatus();
  // cgroup.kill (v2, 5.14+) SIGKILLs the whole subtree, including processes that fork meanwhile.
  const std::string kill_file = dir + "/cgroup.kill";
  const bool has_kill = access(kill_file.c_str(), F_OK) == 0;
  if (has_kill) RETURN_IF_ERROR(WriteStringToFile(kill_file, "1"));
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    std::vector<std::string> dirs;
    CollectTree(dir, dirs);
    bool any = false;
    for (const std::string& d : dirs) {
      absl::StatusOr<std::vector<pid_t>> pids = CgroupProcs(d);
      if (!pids.ok() || pids->empty()) continue;
      any = true;
      if (!has_kill) SignalMembers(d);
    }
    if (!any) return absl::OkStatus();
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("cgroup ", dir, " still has processes ",
                                                      absl::FormatDuration(timeout),
                                                      " after SIGKILL"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

absl::Status RemoveTree(const std::string& dir, absl::Duration timeout) {
  if (access(dir.c_str(), F_OK) != 0) return absl::OkStatus();
  RETURN_IF_ERROR(KillTree(dir, timeout));
  std::vector<std::string> dirs;
  CollectTree(dir, dirs);
  // Children first. A cgroup can stay busy for a moment after its last process was reaped.
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    bool removed = false;
    for (int attempt = 0; attempt < 200 && !removed; ++attempt) {
      if (rmdir(it->c_str()) == 0 || errno == ENOENT) {
        removed = true;
      } else if (errno == EBUSY) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      } else {
        break;
      }
    }
    if (!removed) return ErrnoStatus(absl::StrCat("remove cgroup ", *it));
  }
  return absl::OkStatus();
}

}  // namespace shim::cgroup
