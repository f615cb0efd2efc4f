// Running one void from a test: an entrypoint built in code, stdout/stderr captured, reaped.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "spec/model.h"
#include "void/void.h"

namespace shim::sandbox::testing {

spec::Entrypoint MakeEntrypoint(const std::string& binary,
                                std::vector<spec::EnvironmentKind> environment = {});

spec::EnvironmentKind Grant(const std::string& host, const std::string& in_void,
                            bool read_only = true);

struct VoidRun {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

struct RunOptions {
  std::vector<int> fds;
  int stdin_fd = -1;
  bool capture_stdout = true;
  bool capture_stderr = true;
  int cgroup_fd = -1;
  std::chrono::milliseconds timeout = std::chrono::seconds(20);
};

// Spawns one instance, collects its output until it exits, reaps it.
absl::StatusOr<VoidRun> RunVoid(const PreparedVoid& prepared, std::vector<std::string> argv,
                                const RunOptions& options = {});

// A fresh directory under /tmp, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace shim::sandbox::testing
