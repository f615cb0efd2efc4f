// Small whole-file helpers with errno-carrying errors.
#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shim {

// Reads a whole file; refuses files larger than `max_bytes`.
absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             size_t max_bytes = 64 << 20);

// Writes `content` with a single write(2), as kernel control files (cgroupfs, procfs) expect.
absl::Status WriteStringToFile(const std::string& path, absl::string_view content);

// What an executable file's first bytes say it is: an ELF object, a "#!" script, or anything else
// (including a file too short or unreadable). Reads at offset 0 with pread; never blocks on a
// regular file.
enum class ExecutableFormat { kElf, kScript, kOther };
ExecutableFormat ExecutableFormatOf(int fd);

}  // namespace shim
