// `shim-bpf run` as a user meets it: examples, exit codes, events, limits, timeouts, signals,
// --debug, privilege, and what is left behind (nothing).
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>
#include <thread>
#include <vector>

#include "e2e/run/run_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/background.h"
#include "support/privileged.h"
#include "support/subprocess.h"

namespace shim::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kShim = BuiltBinary("shim-bpf");

TEST(RunE2e, BasicExampleRunsBothEntrypointsInTheirOwnVoids) {
  SHIM_REQUIRE_PRIVILEGED();
  CommandResult r =
      RunCommand({kShim, "run", BuiltBinary("examples/basic/spec.json"), "--", "Ada", "Grace"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("greeter: pid 1, hostname \"greeter-void\", /etc/passwd: No such"));
  EXPECT_THAT(r.out, HasSubstr("counter: pid 1, hostname \"counter-void\""));
  EXPECT_THAT(r.out, HasSubstr("greeter: hello, Ada\ngreeter: hello, Grace\n"));
  EXPECT_THAT(r.out, HasSubstr("counter: 3"));
  EXPECT_THAT(r.out, Not(HasSubstr("READABLE")));
}

TEST(RunE2e, ExitStatusIsTheFirstFailingStartupEntrypoints) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"("sleep": {"args": ["BinaryName", "Entrypoint", "Trailing"]},
      "exit": {"args": ["BinaryName", "Entrypoint", "Trailing"]})");
  // Both get the trailing word: "sleep 7" succeeds after 7 ms, "exit 7" fails with 7.
  EXPECT_EQ(RunCommand({kShim, "run", "-q", spec, "--", "7"}).exit_code, 7);
  spec = dir.WriteSpec(R"("exit": {"args": ["BinaryName", "Entrypoint", "Trailing"]})");
  EXPECT_EQ(RunCommand({kShim, "run", "-q", spec, "--", "7"}).exit_code, 7);
  EXPECT_EQ(RunCommand({kShim, "run", "-q", spec, "--", "0"}).exit_code, 0);
  spec = dir.WriteSpec(R"("segv": {"args": ["BinaryName", "Entrypoint"]})");
  EXPECT_EQ(RunCommand({kShim, "run", "-q", spec}).exit_code, 128 + SIGSEGV);
}

TEST(RunE2e, InvalidSpecStartsNothingAndExitsTwo) {
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"("print": {"args": ["Trigger"]})");
  CommandResult r = RunCommand({kShim, "run", spec});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(spec + ":/entrypoints/print/args/0: error:"));
  EXPECT_THAT(r.err, HasSubstr("nothing was started"));
}

TEST(RunE2e, UnprivilegedUserGetsAClearErrorAndExitTwo) {
  SHIM_REQUIRE_PRIVILEGED();  // needs root to drop to another user
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"("print": {"args": ["BinaryName", "Entrypoint"]})");
  CommandResult r = RunCommand({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                "--inh-caps=-all", kShim, "run", spec});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("CAP_SYS_ADMIN"));
}

TEST(RunE2e, EventsRecordSpawnAndExitWithDurationAndPeakMemory) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  // Peak memory needs a memory controller on the instance: on this hybrid host, a memory limit.
  std::string spec = dir.WriteSpec(
      R"("print": {"args": ["BinaryName", "Entrypoint", "Trailing"], "environment": ["Stdout"],
                   "limits": {"memory": "256M"}})");
  CommandResult r =
      RunCommand({kShim, "run", "-q", spec, "--events", dir.events_path(), "--", "a b", "c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "print: [a b] [c]\n");
  auto events = dir.Events();
  ASSERT_EQ(EventsOf(events, "spawn").size(), 1u);
  auto exits = EventsOf(events, "exit", "print");
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0]["exit_code"], 0);
  EXPECT_GT(exits[0]["duration_ms"].get<double>(), 0);
  EXPECT_GT(exits[0]["peak_memory_bytes"].get<uint64_t>(), 0u);
  EXPECT_EQ(EventsOf(events, "run_end").at(0)["exit_code"], 0);
  EXPECT_TRUE(CgroupDirsOfRun(RunIdOf(events)).empty());
}

TEST(RunE2e, EventsToStdout) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"("exit": {"args": ["BinaryName", "Entrypoint", "Trailing"]})");
  CommandResult r = RunCommand({kShim, "run", "-q", spec, "--events", "-", "--", "4"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.out, HasSubstr("\"event\":\"exit\""));
  EXPECT_THAT(r.out, HasSubstr("\"exit_code\":4"));
}

TEST(RunE2e, StdioIsDevNullUnlessGranted) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"("print": {"args": ["BinaryName", "Entrypoint"]})");
  CommandResult r = RunCommand({kShim, "run", "-q", spec});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(RunE2e, MemoryLimitKillsOnlyTheInstanceThatExceedsIt) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"(
      "alloc": {"args": ["BinaryName", "Entrypoint", "Trailing"], "environment": ["Stdout"],
                "limits": {"memory": "64M"}})");
  CommandResult big =
      RunCommand({kShim, "run", "-q", spec, "--events", dir.events_path(), "--", "200"});
  EXPECT_EQ(big.exit_code, 128 + SIGKILL) << big.err;
  EXPECT_THAT(big.out, Not(HasSubstr("touched")));
  auto exits = EventsOf(dir.Events(), "exit");
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].value("oom_killed", false), true);
  CommandResult small = RunCommand({kShim, "run", "-q", spec, "--", "16"});
  EXPECT_EQ(small.exit_code, 0) << small.err;
  EXPECT_THAT(small.out, HasSubstr("touched 16 MiB"));
}

TEST(RunE2e, PidsLimitCapsAForkBomb) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"(
      "forkbomb": {"args": ["BinaryName", "Entrypoint", "Trailing"], "environment": ["Stdout"],
                   "limits": {"pids": 8}})");
  CommandResult r = RunCommand({kShim, "run", "-q", spec, "--", "100"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // 8 tasks in the instance: the workload itself and at most 7 children.
  EXPECT_THAT(r.out, HasSubstr("forkbomb: made 7 of 100, then Resource temporarily unavailable"));
}

TEST(RunE2e, TimeoutKillsTheInstance) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"(
      "sleep": {"args": ["BinaryName", "Entrypoint", "Trailing"], "limits": {"timeout": "300ms"}})");
  const auto start = std::chrono::steady_clock::now();
  CommandResult r =
      RunCommand({kShim, "run", "-q", spec, "--events", dir.events_path(), "--", "30000"});
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  auto exits = EventsOf(dir.Events(), "exit");
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].value("timed_out", false), true);
}

TEST(RunE2e, SigtermLetsRunningVoidsFinishWithinTheGrace) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"(
      "graceful": {"args": ["BinaryName", "Entrypoint", "Trailing"], "environment": ["Stdout"]})");
  BackgroundProcess run(
      {kShim, "run", "-q", spec, "--grace", "10s", "--events", dir.events_path(), "--", "1500"});
  // Not the spawn event: until the handler is installed a SIGTERM is ignored by the void's init.
  ASSERT_TRUE(WaitUntil([&] { return run.Out().find("graceful: ready") != std::string::npos; }));
  run.Signal(SIGTERM);
  EXPECT_EQ(run.Wait(std::chrono::seconds(20)), 0) << run.Err();
  EXPECT_THAT(run.Out(), HasSubstr("graceful: finished (terminated=1)"));
}

TEST(RunE2e, SigtermKillsWhatOutlivesTheGrace) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec =
      dir.WriteSpec(R"("sleep": {"args": ["BinaryName", "Entrypoint", "Trailing"]})");
  BackgroundProcess run(
      {kShim, "run", "-q", spec, "--grace", "200ms", "--events", dir.events_path(), "--", "60000"});
  ASSERT_TRUE(WaitUntil([&] { return !EventsOf(dir.Events(), "spawn").empty(); }));
  run.Signal(SIGTERM);
  EXPECT_EQ(run.Wait(std::chrono::seconds(10)), 0) << run.Err();
  auto events = dir.Events();
  EXPECT_EQ(EventsOf(events, "exit").at(0)["signal"], SIGKILL);
  EXPECT_TRUE(CgroupDirsOfRun(RunIdOf(events)).empty());
}

TEST(RunE2e, DebugStopsEachVoidBeforeExecAndPrintsItsPid) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(
      R"("print": {"args": ["BinaryName", "Entrypoint", "Trailing"], "environment": ["Stdout"]})");
  BackgroundProcess run({kShim, "run", "-q", "--debug", spec, "--", "after-continue"});
  std::string pid;
  ASSERT_TRUE(WaitUntil([&] {
    std::string err = run.Err();
    size_t at = err.find(": pid ");
    if (at == std::string::npos) return false;
    pid = err.substr(at + 6, err.find(' ', at + 6) - at - 6);
    return true;
  })) << run.Err();
  std::string status = ReadFileOrEmpty("/proc/" + pid + "/status");
  EXPECT_THAT(status, HasSubstr("State:\tT (stopped)"));
  EXPECT_THAT(ReadFileOrEmpty("/proc/" + pid + "/comm"), Not(HasSubstr("workload")))
      << "stopped before exec, so it is not the workload yet";
  ASSERT_EQ(kill(std::stoi(pid), SIGCONT), 0);
  EXPECT_EQ(run.Wait(std::chrono::seconds(10)), 0) << run.Err();
  EXPECT_EQ(run.Out(), "print: [after-continue]\n");
}

TEST(RunE2e, KilledSupervisorTakesItsVoidsAlongAndTheNextRunCleansUp) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec =
      dir.WriteSpec(R"("sleep": {"args": ["BinaryName", "Entrypoint", "Trailing"]})");
  auto run = std::make_unique<BackgroundProcess>(std::vector<std::string>{
      kShim, "run", "-q", spec, "--events", dir.events_path(), "--", "60000"});
  ASSERT_TRUE(WaitUntil([&] { return !EventsOf(dir.Events(), "spawn").empty(); }));
  auto events = dir.Events();
  const std::string run_id = RunIdOf(events);
  const int void_pid = EventsOf(events, "spawn")[0]["pid"];
  ASSERT_EQ(kill(void_pid, 0), 0);
  run->Signal(SIGKILL);
  EXPECT_EQ(run->Wait(std::chrono::seconds(10)), 128 + SIGKILL);
  EXPECT_TRUE(WaitUntil([&] { return kill(void_pid, 0) != 0; }))
      << "the void outlived its supervisor";
  // kill -9 leaves the run's cgroups behind (unless a run of a test in parallel has already
  // removed them as stale): the next run removes them.
  std::string next = dir.WriteSpec(R"("exit": {"args": ["BinaryName", "Entrypoint", "Trailing"]})");
  EXPECT_EQ(RunCommand({kShim, "run", "-q", next, "--", "0"}).exit_code, 0);
  EXPECT_TRUE(CgroupDirsOfRun(run_id).empty());
}

TEST(RunE2e, TraceAddsTheRunsProcessTreeToTheEvents) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"("forkbomb": {"args": ["BinaryName", "Entrypoint", "Trailing"],
                                                   "environment": ["Stdout"]})");
  CommandResult r =
      RunCommand({kShim, "run", "-q", "--trace", "--events", dir.events_path(), spec, "--", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("made 3 of 3"));
  auto events = dir.Events();
  const int void_pid = EventsOf(events, "spawn").at(0)["pid"];
  auto execs = EventsOf(events, "process_exec", "forkbomb");
  ASSERT_EQ(execs.size(), 1u);
  EXPECT_EQ(execs[0]["pid"], void_pid);
  EXPECT_EQ(execs[0]["argv"][1], "forkbomb");
  int children = 0;
  for (const auto& fork : EventsOf(events, "process_fork", "forkbomb")) {
    if (fork["ppid"] == void_pid) ++children;
  }
  EXPECT_EQ(children, 3);
  EXPECT_EQ(EventsOf(events, "process_exit", "forkbomb").size(), 4u) << "the void and its children";
  for (const auto& e : events) EXPECT_NE(e.value("event", ""), "process_lost");
}

// CapEff/CapBnd of /proc/PID/status as a bit mask.
uint64_t CapabilityMask(const std::string& status, const std::string& field) {
  const size_t at = status.find(field + ":\t");
  if (at == std::string::npos) return ~0ull;
  return std::stoull(status.substr(at + field.size() + 2, 16), nullptr, 16);
}

TEST(RunE2e, SupervisorKeepsOnlyTheCapabilitiesItNeedsAfterStartUp) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec =
      dir.WriteSpec(R"("sleep": {"args": ["BinaryName", "Entrypoint", "Trailing"]})");
  BackgroundProcess run(
      {kShim, "run", spec, "--grace", "0s", "--events", dir.events_path(), "--", "60000"});
  ASSERT_TRUE(WaitUntil([&] { return !EventsOf(dir.Events(), "spawn").empty(); }));
  const std::string status = ReadFileOrEmpty("/proc/" + std::to_string(run.pid()) + "/status");
  // CAP_KILL 5, CAP_SETGID 6, CAP_SETUID 7, CAP_SYS_CHROOT 18, CAP_SYS_ADMIN 21; and
  // CAP_DAC_OVERRIDE 1 permitted only (dormant), for the final removal of the shim-bpf folders.
  const uint64_t expected = (1ull << 5) | (1ull << 6) | (1ull << 7) | (1ull << 18) | (1ull << 21);
  const uint64_t dormant = 1ull << 1;
  EXPECT_EQ(CapabilityMask(status, "CapEff"), expected) << status;
  EXPECT_EQ(CapabilityMask(status, "CapPrm"), expected | dormant);
  EXPECT_EQ(CapabilityMask(status, "CapBnd"), expected | dormant)
      << "dropped from the bounding set too";
  EXPECT_EQ(CapabilityMask(status, "CapInh"), 0u);
  EXPECT_THAT(run.Err(), HasSubstr("privileges: kept CAP_SYS_ADMIN CAP_SYS_CHROOT CAP_SETUID "
                                   "CAP_SETGID CAP_KILL"));
  run.Signal(SIGTERM);
  EXPECT_EQ(run.Wait(std::chrono::seconds(10)), 0);
}

// Every shim-bpf folder in a hierarchy, and whether it holds no run at all.
std::vector<std::string> EmptyShimFolders() {
  std::vector<std::string> empty;
  for (const std::string& dir : DirsBeneath("/sys/fs/cgroup", 6)) {
    if (std::filesystem::path(dir).filename() != "shim-bpf") continue;
    bool has_run = false;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
      has_run = has_run || entry.is_directory();
    }
    if (!has_run && !error) empty.push_back(dir);
  }
  return empty;
}

// A run removes its folders in every hierarchy, the shared shim-bpf folder too once no run is
// left in it, although the hierarchy's root (mode 0555) needs a capability the supervisor has
// dropped from its effective set by then. (Another test's run may be ending at the same moment:
// wait for its cleanup too.)
TEST(RunE2e, ARunLeavesNoEmptyShimBpfFolderInAnyHierarchy) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(
      R"("exit": {"args": ["BinaryName", "Entrypoint", {"Literal": "0"}],
                  "limits": {"memory": "32M", "pids": 8, "cpu": "50%"}})");
  CommandResult r = RunCommand({kShim, "run", "-q", spec, "--events", dir.events_path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(CgroupDirsOfRun(RunIdOf(dir.Events())).empty());
  std::vector<std::string> empty;
  EXPECT_TRUE(WaitUntil([&] {
    empty = EmptyShimFolders();
    return empty.empty();
  }, std::chrono::seconds(5)))
      << "left behind: " << (empty.empty() ? "" : empty.front());
}

}  // namespace
}  // namespace shim::testing
