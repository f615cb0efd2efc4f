// Proves the BPF build pipeline end to end: vmlinux.h, clang -target bpf, the bpftool skeleton,
// load, attach to tp_btf tracepoints, and counters that match a known number of real processes.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "cgroup/cgroup2.h"
#include "support/privileged.h"
#include "trace/exec_counter.h"

extern char** environ;

namespace shim {
namespace {

// Forks a child that joins `cgroup` and then execs /bin/true; returns its exit status.
int RunTrueInCgroup(const OwnedCgroup& cgroup) {
  pid_t pid = fork();
  if (pid == 0) {
    if (!cgroup.AddProcess(getpid()).ok()) _exit(125);
    execl("/bin/true", "true", nullptr);
    _exit(126);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(ExecCountBpf, CountsExactlyTheExecsInItsCgroup) {
  SHIM_REQUIRE_PRIVILEGED();
  absl::StatusOr<std::string> own = OwnCgroup2Dir();
  ASSERT_TRUE(own.ok()) << own.status();
  absl::StatusOr<OwnedCgroup> cgroup =
      OwnedCgroup::Create(*own, "shim-bpf-test-exec-count-" + std::to_string(getpid()));
  ASSERT_TRUE(cgroup.ok()) << cgroup.status();

  absl::StatusOr<ExecCounter> counter = ExecCounter::Attach(cgroup->id());
  ASSERT_TRUE(counter.ok()) << counter.status();

  constexpr int kProcesses = 37;
  for (int i = 0; i < kProcesses; ++i) ASSERT_EQ(RunTrueInCgroup(*cgroup), 0);
  // Processes outside the cgroup must not be counted.
  for (int i = 0; i < 5; ++i) ASSERT_EQ(system("/bin/true"), 0);

  exec_count_stats stats = counter->stats();
  EXPECT_EQ(stats.execs, static_cast<uint64_t>(kProcesses));
  EXPECT_EQ(stats.exits, static_cast<uint64_t>(kProcesses));
}

}  // namespace
}  // namespace shim
