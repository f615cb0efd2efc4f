#include "cgroup/cgroup2.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cgroup/host.h"
#include "common/errno_status.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace shim {

absl::StatusOr<std::string> FindCgroup2Mount() {
  ASSIGN_OR_RETURN(cgroup::Host host, cgroup::DetectHost());
  if (!host.v2) {
    return absl::FailedPreconditionError(
        "no cgroup2 filesystem is mounted (see /proc/self/mountinfo); mount one, e.g. "
        "`mount -t cgroup2 none /sys/fs/cgroup/unified`");
  }
  return host.v2->mount_point;
}

absl::StatusOr<std::string> OwnCgroup2Dir() {
  ASSIGN_OR_RETURN(cgroup::Host host, cgroup::DetectHost());
  if (!host.v2) {
    return absl::FailedPreconditionError(
        "this process has no cgroup v2 directory: /proc/self/cgroup has no 0:: entry or no "
        "cgroup2 mount shows it (see /proc/self/mountinfo)");
  }
  return host.v2->own_dir;
}

absl::StatusOr<uint64_t> CgroupIdOf(const std::string& dir) {
  // On 64-bit kernels the cgroup id is the kernfs inode number of the directory.
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return ErrnoStatus(absl::StrCat("stat ", dir));
  return static_cast<uint64_t>(st.st_ino);
}

namespace {

bool CgroupPopulated(const std::string& dir) {
  absl::StatusOr<std::string> events = ReadFileToString(dir + "/cgroup.events");
  if (!events.ok()) return false;
  return events->find("populated 1") != std::string::npos;
}

absl::Status RemoveEmptyTree(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(absl::StrCat("open cgroup ", dir));
  }
  std::vector<std::string> children;
  while (dirent* entry = readdir(d)) {
    absl::string_view name = entry->d_name;
    if (entry->d_type == DT_DIR && name != "." && name != "..") {
      children.push_back(absl::StrCat(dir, "/", name));
    }
  }
  closedir(d);
  for (const std::string& child : children) RETURN_IF_ERROR(RemoveEmptyTree(child));
  // A cgroup can stay busy for a moment after its last process was reaped.
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return absl::OkStatus();
    if (errno != EBUSY) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return ErrnoStatus(absl::StrCat("remove cgroup ", dir));
}

}  // namespace

absl::Status RemoveCgroupTree(const std::string& dir) {
  if (access(dir.c_str(), F_OK) != 0) return absl::OkStatus();
  if (CgroupPopulated(dir)) {
    // cgroup.kill (5.14+) SIGKILLs the whole subtree, including processes that fork meanwhile.
    RETURN_IF_ERROR(WriteStringToFile(dir + "/cgroup.kill", "1"));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (CgroupPopulated(dir)) {
      if (std::chrono::steady_clock::now() > deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("cgroup ", dir, " still has processes 5 s after cgroup.kill"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  return RemoveEmptyTree(dir);
}

absl::StatusOr<OwnedCgroup> OwnedCgroup::Create(const std::string& parent, absl::string_view name) {
  std::string path = absl::StrCat(parent, "/", name);
  if (mkdir(path.c_str(), 0755) != 0) return ErrnoStatus(absl::StrCat("create cgroup ", path));
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    absl::Status status = ErrnoStatus(absl::StrCat("open cgroup ", path));
    rmdir(path.c_str());
    return status;
  }
  absl::StatusOr<uint64_t> id = CgroupIdOf(path);
  if (!id.ok()) {
    rmdir(path.c_str());
    return id.status();
  }
  return OwnedCgroup(std::move(path), *id, std::move(fd));
}

OwnedCgroup::OwnedCgroup(OwnedCgroup&& other) noexcept
    : path_(std::exchange(other.path_, {})), id_(other.id_), dir_fd_(std::move(other.dir_fd_)) {}

OwnedCgroup& OwnedCgroup::operator=(OwnedCgroup&& other) noexcept {
  if (this != &other) {
    (void)Remove();
    path_ = std::exchange(other.path_, {});
    id_ = other.id_;
    dir_fd_ = std::move(other.dir_fd_);
  }
  return *this;
}

OwnedCgroup::~OwnedCgroup() { (void)Remove(); }

absl::Status OwnedCgroup::AddProcess(pid_t pid) const {
  return WriteStringToFile(path_ + "/cgroup.procs", std::to_string(pid));
}

absl::Status OwnedCgroup::Remove() {
  if (path_.empty()) return absl::OkStatus();
  dir_fd_.reset();
  absl::Status status = RemoveCgroupTree(path_);
  path_.clear();
  return status;
}

}  // namespace shim
