#include "common/file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/unique_fd.h"

namespace shim {

absl::StatusOr<std::string> ReadFileToString(const std::string& path, size_t max_bytes) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoStatus(absl::StrCat("open ", path));
  std::string content;
  char buf[16384];
  while (true) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(absl::StrCat("read ", path));
    }
    if (n == 0) break;
    if (content.size() + static_cast<size_t>(n) > max_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat(path, " is larger than the limit of ", max_bytes, " bytes"));
    }
    content.append(buf, static_cast<size_t>(n));
  }
  return content;
}

absl::Status WriteStringToFile(const std::string& path, absl::string_view content) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return ErrnoStatus(absl::StrCat("open ", path));
  // Some kernel files fail a write with EINTR whenever a signal is pending (cgroup v1's
  // memory.limit_in_bytes does, even for a signal that is then ignored): try again.
  ssize_t n;
  do {
    n = write(fd.get(), content.data(), content.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoStatus(absl::StrCat("write ", path));
  if (static_cast<size_t>(n) != content.size()) {
    return absl::InternalError(absl::StrCat("short write to ", path));
  }
  return absl::OkStatus();
}

ExecutableFormat ExecutableFormatOf(int fd) {
  char magic[4] = {};
  if (pread(fd, magic, sizeof magic, 0) != static_cast<ssize_t>(sizeof magic)) {
    // A two-byte "#!" file is still a script; anything shorter is nothing runnable.
    return magic[0] == '#' && magic[1] == '!' ? ExecutableFormat::kScript
                                              : ExecutableFormat::kOther;
  }
  if (memcmp(magic, "\x7f" "ELF", sizeof magic) == 0) return ExecutableFormat::kElf;
  if (magic[0] == '#' && magic[1] == '!') return ExecutableFormat::kScript;
  return ExecutableFormat::kOther;
}

}  // namespace shim
