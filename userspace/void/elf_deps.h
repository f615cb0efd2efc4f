// What a dynamic ELF binary needs to start: its interpreter (PT_INTERP) and the DT_NEEDED
// libraries, found recursively the way ld.so finds them (DT_RPATH / DT_RUNPATH with $ORIGIN, the
// ld.so.conf directories, the default directories). A void binds exactly these files read-only,
// so specs never have to list libc.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace shim::sandbox {

// The dynamic-linking facts of one ELF file.
struct ElfInfo {
  std::string interpreter;  // PT_INTERP, empty for static binaries and libraries
  std::vector<std::string> needed;
  std::vector<std::string> rpath;    // DT_RPATH, split on ':'
  std::vector<std::string> runpath;  // DT_RUNPATH, split on ':'
  bool dynamic = false;              // has PT_DYNAMIC
};

// Parses `path` (64-bit little-endian ELF). A missing file, a non-ELF file (a script, say) and a
// truncated or corrupt ELF file are errors that say which.
absl::StatusOr<ElfInfo> ReadElfInfo(const std::string& path);

// Where ld.so looks after RPATH/RUNPATH, in order.
struct LibrarySearchPath {
  std::vector<std::string> conf_dirs;     // from /etc/ld.so.conf (and its includes)
  std::vector<std::string> default_dirs;  // the loader's built-in trusted directories
};

// The host's search path: /etc/ld.so.conf parsed (include globs followed), and the multiarch
// default directories of this architecture.
LibrarySearchPath HostLibrarySearchPath();

// One file to bind into the void.
struct DependencyBind {
  std::string host_path;  // canonical host file (symlinks resolved)
  std::string void_path;  // where the void's ld.so will look for it
};

// The interpreter (first) and every library `binary` needs, transitively, without duplicates.
// `void_binary_path` is where the binary appears inside the void (for $ORIGIN). Libraries found
// in a directory the void's loader does not search (an ld.so.conf directory: the void has no
// ld.so.cache) are placed in the first default directory. A library that cannot be found is an
// error naming it and the object that needs it. A static binary yields an empty list.
absl::StatusOr<std::vector<DependencyBind>> ResolveElfDependencies(
    const std::string& binary, const std::string& void_binary_path,
    const LibrarySearchPath& search);

}  // namespace shim::sandbox
