// Host paths the root supervisor resolves for a void. A void can write wherever a writable grant
// lets it, so it can plant symlinks, FIFOs or swapped directories there; the supervisor resolves
// every path once, at start-up, following only symlinks a void cannot have made, and afterwards
// opens nothing by a path that could resolve differently (docs/security.md, "a void attacks
// through the supervisor").
#pragma once

#include <sys/stat.h>

#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace shim {

// The canonical form of the absolute path `path` (no symlink, no "." or ".." left), resolving
// symlinks only where they are owned by root: a void runs as an unprivileged host uid and can
// never create one. A symlink owned by anyone else is refused (PermissionDenied, naming it), as
// are more than 40 symlinks. Missing components are an error (NotFound).
absl::StatusOr<std::string> CanonicalTrustedPath(const std::string& path);

// Opens the canonical path `canonical` with `flags` (O_CLOEXEC is added) and no symlink followed
// anywhere on the way (openat2 RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS): if a component was
// swapped for a symlink since it was canonicalized, this fails with ELOOP instead of following it.
absl::StatusOr<UniqueFd> OpenNoSymlinks(const std::string& canonical, int flags);

// The same open as a raw system call that never allocates (for a child between clone and exec):
// the fd, or -1 with errno.
int OpenNoSymlinksRaw(const char* canonical, int flags);

// True for an inode on a kernel pseudo filesystem whose files describe or control processes and
// the kernel (proc, sysfs, debugfs, tracefs, securityfs, bpffs, cgroupfs, configfs, efivarfs,
// pstore, nsfs, pidfs): such a file read by a void through the root supervisor's open would be
// the supervisor's view (its /proc/self/mem), never a plain file.
bool OnPseudoFilesystem(int fd);

// "regular file", "FIFO", "socket", "character device", ... for messages.
const char* FileTypeName(mode_t mode);

// Whether `path` is `folder` or lies beneath it, component-wise ("/a/bc" is not beneath "/a/b").
// Both absolute and normal.
bool IsSameOrBeneath(const std::string& path, const std::string& folder);

}  // namespace shim
