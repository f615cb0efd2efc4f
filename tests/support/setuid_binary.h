// A setuid-root binary of this host, for tests that check a void cannot regain privilege by
// executing one ("" when the host has none).
#pragma once

#include <sys/stat.h>

#include <string>

namespace shim::testing {

inline std::string FindSetuidRootBinary() {
  for (const char* path : {"/usr/bin/su", "/bin/su", "/usr/bin/passwd", "/usr/bin/mount",
                           "/usr/bin/newgrp", "/usr/bin/chsh"}) {
    struct stat st {};
    if (stat(path, &st) == 0 && (st.st_mode & S_ISUID) && st.st_uid == 0) return path;
  }
  return "";
}

}  // namespace shim::testing
