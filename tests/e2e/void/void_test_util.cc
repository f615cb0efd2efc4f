#include "void_test_util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/pidfd.h"

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "common/errno_status.h"
#include "common/unique_fd.h"

namespace shim::sandbox::testing {

spec::Entrypoint MakeEntrypoint(const std::string& binary,
                                std::vector<spec::EnvironmentKind> environment) {
  spec::Entrypoint e;
  e.name = "test";
  e.binary_path = binary;
  for (size_t i = 0; i < environment.size(); ++i) {
    e.environment.push_back({environment[i], "/entrypoints/test/environment/" + std::to_string(i)});
  }
  return e;
}

spec::EnvironmentKind Grant(const std::string& host, const std::string& in_void, bool read_only) {
  spec::EnvFilesystem fs;
  fs.host_path = host;
  fs.environment_path = in_void;
  fs.read_only = read_only;
  return fs;
}

absl::StatusOr<VoidRun> RunVoid(const PreparedVoid& prepared, std::vector<std::string> argv,
                                const RunOptions& options) {
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  if (options.capture_stdout && pipe2(out, O_CLOEXEC) != 0) return ErrnoStatus("pipe");
  if (options.capture_stderr && pipe2(err, O_CLOEXEC) != 0) return ErrnoStatus("pipe");
  UniqueFd out_r(out[0]), out_w(out[1]), err_r(err[0]), err_w(err[1]);
  SpawnRequest request;
  request.argv = std::move(argv);
  request.fds = options.fds;
  request.stdin_fd = options.stdin_fd;
  request.stdout_fd = out_w.get();
  request.stderr_fd = err_w.get();
  request.cgroup_fd = options.cgroup_fd;
  absl::StatusOr<Instance> instance = prepared.Spawn(request);
  out_w.reset();
  err_w.reset();
  if (!instance.ok()) return instance.status();
  VoidRun run;
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  std::vector<pollfd> fds;
  if (out_r) fds.push_back({out_r.get(), POLLIN, 0});
  if (err_r) fds.push_back({err_r.get(), POLLIN, 0});
  while (!fds.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      PidfdSendSignal(instance->pidfd.get(), SIGKILL);
      break;
    }
    if (poll(fds.data(), fds.size(), left.count()) < 0 && errno != EINTR) break;
    for (size_t i = 0; i < fds.size();) {
      if (fds[i].revents == 0) {
        ++i;
        continue;
      }
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (fds[i].fd == out_r.get() ? run.out : run.err).append(buf, n);
        ++i;
      } else {
        fds.erase(fds.begin() + i);
      }
    }
  }
  siginfo_t info = {};
  while (waitid(P_PIDFD, instance->pidfd.get(), &info, WEXITED) != 0) {
    if (errno != EINTR) return ErrnoStatus("waitid");
  }
  if (info.si_code == CLD_EXITED) {
    run.exit_code = info.si_status;
  } else {
    run.signal = info.si_status;
  }
  return run;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/shim-void-test.XXXXXX";
  const char* p = mkdtemp(tmpl);
  if (p == nullptr) abort();
  path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace shim::sandbox::testing
