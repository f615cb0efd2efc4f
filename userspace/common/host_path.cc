#include "common/host_path.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errno_status.h"

namespace shim {
namespace {

constexpr int kMaxSymlinks = 40;  // as the kernel's own path walk (MAXSYMLINKS)

// Magic numbers of filesystems linux/magic.h may not name on every header version.
constexpr long kPidfsMagic = 0x50494446;
constexpr long kNsfsMagic = 0x6e736673;

std::vector<std::string> Components(const std::string& path) {
  return absl::StrSplit(path, '/', absl::SkipEmpty());
}

}  // namespace

absl::StatusOr<std::string> CanonicalTrustedPath(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("not an absolute path: ", path));
  }
  // `done` is canonical so far; `todo` holds what is left, in reverse order (next at the back).
  std::vector<std::string> done;
  std::vector<std::string> todo = Components(path);
  std::reverse(todo.begin(), todo.end());
  int symlinks = 0;
  while (!todo.empty()) {
    const std::string name = todo.back();
    todo.pop_back();
    if (name == ".") continue;
    if (name == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    const std::string here =
        absl::StrCat("/", absl::StrJoin(done, "/"), done.empty() ? "" : "/", name);
    struct stat st;
    if (lstat(here.c_str(), &st) != 0) {
      return ErrnoStatus(
          absl::StrCat("host path ", path, here == path ? "" : absl::StrCat(": ", here)));
    }
    if (!S_ISLNK(st.st_mode)) {
      if (!todo.empty() && !S_ISDIR(st.st_mode)) {
        return absl::FailedPreconditionError(
            absl::StrCat("host path ", here, " is a ", FileTypeName(st.st_mode), ", not a folder"));
      }
      done.push_back(name);
      continue;
    }
    if (st.st_uid != 0) {
      return absl::PermissionDeniedError(absl::StrCat(
          "host path ", path, ": symlink ", here, " is owned by uid ", st.st_uid,
          ", not root; only root's symlinks are followed (a void could have planted it); name "
          "the path it points to"));
    }
    if (++symlinks > kMaxSymlinks) {
      return absl::FailedPreconditionError(
          absl::StrCat("host path ", path, ": more than ", kMaxSymlinks, " symlinks"));
    }
    std::string target(PATH_MAX, '\0');
    const ssize_t n = readlink(here.c_str(), target.data(), target.size());
    if (n < 0) return ErrnoStatus(absl::StrCat("readlink ", here));
    target.resize(static_cast<size_t>(n));
    if (!target.empty() && target[0] == '/') done.clear();
    std::vector<std::string> parts = Components(target);
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_back(std::move(*it));
  }
  return absl::StrCat("/", absl::StrJoin(done, "/"));
}

int OpenNoSymlinksRaw(const char* canonical, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, AT_FDCWD, canonical, &how, sizeof how));
}

absl::StatusOr<UniqueFd> OpenNoSymlinks(const std::string& canonical, int flags) {
  UniqueFd fd(OpenNoSymlinksRaw(canonical.c_str(), flags));
  if (!fd) {
    if (errno == ELOOP) {
      return absl::FailedPreconditionError(absl::StrCat(
          "host path ", canonical, " changed since start-up: a component is now a symlink"));
    }
    return ErrnoStatus(absl::StrCat("open ", canonical));
  }
  return fd;
}

bool OnPseudoFilesystem(int fd) {
  struct statfs fs;
  if (fstatfs(fd, &fs) != 0) return true;  // unknown: treat as the worst case
  switch (static_cast<long>(fs.f_type)) {
    case PROC_SUPER_MAGIC:
    case SYSFS_MAGIC:
    case DEBUGFS_MAGIC:
    case TRACEFS_MAGIC:
    case SECURITYFS_MAGIC:
    case BPF_FS_MAGIC:
    case CGROUP_SUPER_MAGIC:
    case CGROUP2_SUPER_MAGIC:
    case 0x62656570:  // configfs
    case EFIVARFS_MAGIC:
    case PSTOREFS_MAGIC:
    case kNsfsMagic:
    case kPidfsMagic:
      return true;
    default:
      return false;
  }
}

const char* FileTypeName(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "regular file";
    case S_IFDIR:
      return "folder";
    case S_IFLNK:
      return "symlink";
    case S_IFIFO:
      return "FIFO";
    case S_IFSOCK:
      return "socket";
    case S_IFCHR:
      return "character device";
    case S_IFBLK:
      return "block device";
    default:
      return "file of unknown type";
  }
}

bool IsSameOrBeneath(const std::string& path, const std::string& folder) {
  if (folder == "/") return true;
  if (path.size() < folder.size() || path.compare(0, folder.size(), folder) != 0) return false;
  return path.size() == folder.size() || path[folder.size()] == '/';
}

}  // namespace shim
