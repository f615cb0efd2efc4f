// One void at a time through PreparedVoid, as the supervisor uses it: dynamic and static
// binaries, fd renumbering, stdio, hostname, procfs, writable grants, debug stop, cgroups and
// errors that name the failed step.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/pidfd.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cgroup/cgroup2.h"
#include "common/unique_fd.h"
#include "support/privileged.h"
#include "void/void.h"
#include "void_test_util.h"

namespace shim::sandbox::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::unique_ptr<PreparedVoid> PrepareOrDie(const spec::Entrypoint& e, const VoidOptions& o = {}) {
  absl::StatusOr<std::unique_ptr<PreparedVoid>> v = PreparedVoid::Prepare(e, o);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? std::move(*v) : nullptr;
}

TEST(VoidE2e, DynamicBinaryRunsWithoutListingLibraries) {
  SHIM_REQUIRE_PRIVILEGED();
  auto v = PrepareOrDie(MakeEntrypoint("/bin/echo"));
  ASSERT_NE(v, nullptr);
  EXPECT_THAT(v->AutomaticBinds(), ::testing::Contains(HasSubstr("libc.so")));
  absl::StatusOr<VoidRun> r = RunVoid(*v, {"echo", "hello", "void"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_EQ(r->out, "hello void\n");
}

TEST(VoidE2e, StaticBinaryExitCodePropagates) {
  SHIM_REQUIRE_PRIVILEGED();
  auto v = PrepareOrDie(MakeEntrypoint(STATIC_EXIT));
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(v->AutomaticBinds().empty());
  absl::StatusOr<VoidRun> r = RunVoid(*v, {"static_exit", "42"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 42);
}

TEST(VoidE2e, ManyInstancesOfOnePreparedVoid) {
  SHIM_REQUIRE_PRIVILEGED();
  auto v = PrepareOrDie(MakeEntrypoint(STATIC_EXIT));
  ASSERT_NE(v, nullptr);
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<VoidRun> r = RunVoid(*v, {"static_exit", std::to_string(i)});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->exit_code, i);
  }
}

// The supervisor spawns from worker threads while other threads come and go. The child of a raw
// clone3 inherits glibc's list of those threads, so a glibc set*id wrapper in it (which applies
// the change to every listed thread) waited forever for one that was starting at clone time.
// Both ways of cloning, 200 voids each, against a thread that never stops creating threads.
TEST(VoidE2e, SpawningWhileThreadsStartNeverDeadlocks) {
  SHIM_REQUIRE_PRIVILEGED();
  for (bool share_memory : {false, true}) {
    VoidOptions o;
    o.share_memory_until_exec = share_memory;
    auto v = PrepareOrDie(MakeEntrypoint(STATIC_EXIT), o);
    ASSERT_NE(v, nullptr);
    std::atomic<bool> stop{false};
    std::thread churn([&] {
      while (!stop) std::thread([] {}).join();
    });
    int ok = 0;
    for (int i = 0; i < 200; ++i) {
      absl::StatusOr<VoidRun> r = RunVoid(*v, {"static_exit", "7"});
      if (!r.ok()) {
        ADD_FAILURE() << "share_memory " << share_memory << " void " << i << ": " << r.status();
        break;
      }
      ok += r->exit_code == 7;
    }
    stop = true;
    churn.join();
    EXPECT_EQ(ok, 200) << "share_memory " << share_memory;
  }
}

TEST(VoidE2e, GrantedFdAppearsAtThreeAndNothingElseIsOpen) {
  SHIM_REQUIRE_PRIVILEGED();
  auto v = PrepareOrDie(MakeEntrypoint(ESCAPE_PROBE));
  ASSERT_NE(v, nullptr);
  int p[2];
  ASSERT_EQ(pipe(p), 0);  // no CLOEXEC: inherited, yet only p[0] is granted
  UniqueFd rd(p[0]), wr(p[1]);
  UniqueFd stray(open("/etc/hostname", O_RDONLY));  // not granted: must be closed in the void
  ASSERT_TRUE(stray.valid());
  ASSERT_EQ(write(wr.get(), "through fd 3", 12), 12);
  RunOptions o;
  o.fds = {rd.get()};
  absl::StatusOr<VoidRun> r = RunVoid(*v, {"probe", "fds"}, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->out, "fds 0 1 2 3\n");
  r = RunVoid(*v, {"probe", "echo-fd3"}, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->out, "through fd 3");
}

TEST(VoidE2e, OverlappingFdNumbersAreRenumberedSafely) {
  SHIM_REQUIRE_PRIVILEGED();
  auto v = PrepareOrDie(MakeEntrypoint(ESCAPE_PROBE));
  ASSERT_NE(v, nullptr);
  // Grant fd 4's pipe as fd 3 and fd 3's pipe as fd 4 (a swap: a naive dup2 loop loses one).
  int a[2], b[2];
  ASSERT_EQ(pipe(a), 0);
  ASSERT_EQ(pipe(b), 0);
  UniqueFd a0(a[0]), a1(a[1]), b0(b[0]), b1(b[1]);
  ASSERT_EQ(write(a1.get(), "A", 1), 1);
  ASSERT_EQ(write(b1.get(), "B", 1), 1);
  RunOptions o;
  o.fds = {b0.get(), a0.get()};
  absl::StatusOr<VoidRun> r = RunVoid(*v, {"probe", "echo-fd3"}, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->out, "B");
}

TEST(VoidE2e, UngrantedStdioIsDevNull) {
  SHIM_REQUIRE_PRIVILEGED();
  auto v = PrepareOrDie(MakeEntrypoint("/bin/cat"));
  ASSERT_NE(v, nullptr);
  // stdin not granted: cat reads /dev/null and ends at once.
  absl::StatusOr<VoidRun> r = RunVoid(*v, {"cat"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out, "");
  // stdin granted: cat copies it.
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  UniqueFd rd(p[0]), wr(p[1]);
  ASSERT_EQ(write(wr.get(), "stdin data", 10), 10);
  wr.reset();
  RunOptions o;
  o.stdin_fd = rd.get();
  r = RunVoid(*v, {"cat"}, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->out, "stdin data");
  // stdout not granted: what echo writes goes nowhere.
  auto echo = PrepareOrDie(MakeEntrypoint("/bin/echo"));
  ASSERT_NE(echo, nullptr);
  RunOptions quiet;
  quiet.capture_stdout = false;
  r = RunVoid(*echo, {"echo", "lost"}, quiet);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out, "");
}

TEST(VoidE2e, HostnameAndDomainNameAreTheVoidsOwn) {
  SHIM_REQUIRE_PRIVILEGED();
  struct utsname before;
  uname(&before);
  // Fork semantics (no shared memory) and per-instance mounts work the same.
  VoidOptions fork_mode;
  fork_mode.share_memory_until_exec = false;
  fork_mode.mount_template = false;
  auto plain = PrepareOrDie(MakeEntrypoint(ESCAPE_PROBE), fork_mode);
  ASSERT_NE(plain, nullptr);
  absl::StatusOr<VoidRun> r = RunVoid(*plain, {"probe", "hostname"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->out, StartsWith("hostname void "));
  auto named = PrepareOrDie(MakeEntrypoint(
      ESCAPE_PROBE, {spec::EnvHostname{"sandy"}, spec::EnvDomainName{"example.org"}}));
  ASSERT_NE(named, nullptr);
  r = RunVoid(*named, {"probe", "hostname"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->out, "hostname sandy domain example.org\n");
  struct utsname after;
  uname(&after);
  EXPECT_STREQ(before.nodename, after.nodename);
}

TEST(VoidE2e, ProcfsOnlyWhenGranted) {
  SHIM_REQUIRE_PRIVILEGED();
  auto without = PrepareOrDie(MakeEntrypoint(ESCAPE_PROBE));
  ASSERT_NE(without, nullptr);
  absl::StatusOr<VoidRun> r = RunVoid(*without, {"probe", "exists", "/proc/self"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, ENOENT);
  auto with = PrepareOrDie(MakeEntrypoint(ESCAPE_PROBE, {spec::EnvProcfs{}}));
  ASSERT_NE(with, nullptr);
  r = RunVoid(*with, {"probe", "read", "/proc/self/stat"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0);
  // pid 1 of its own pid namespace, named after its binary (shown at its own path)
  EXPECT_THAT(r->out, StartsWith("1 (escape_probe)"));
}

// A "Name:\thex" line of /proc/PID/status as a number (0 when absent).
uint64_t StatusMask(const std::string& status, const std::string& name) {
  std::istringstream lines(status);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + ":\t", 0) == 0)
      return std::stoull(line.substr(name.size() + 2), nullptr, 16);
  }
  return 0;
}

void OnSignal(int) {}

// What a void starts with: no handler of the supervisor's (a SIGUSR1 handler here), none of the
// signals it ignored (SIGUSR2, SIGPIPE here) still ignored, nothing blocked, an empty bounding set.
// The same from a second thread.
TEST(VoidE2e, StartsWithDefaultSignalsAndNoBoundingSet) {
  SHIM_REQUIRE_PRIVILEGED();
  struct sigaction handler = {}, ignore = {}, saved[3];
  handler.sa_handler = OnSignal;
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGUSR1, &handler, &saved[0]), 0);
  ASSERT_EQ(sigaction(SIGUSR2, &ignore, &saved[1]), 0);
  ASSERT_EQ(sigaction(SIGPIPE, &ignore, &saved[2]), 0);
  auto v = PrepareOrDie(MakeEntrypoint(ESCAPE_PROBE, {spec::EnvProcfs{}}));
  ASSERT_NE(v, nullptr);
  auto check = [&] {
    absl::StatusOr<VoidRun> r = RunVoid(*v, {"probe", "read", "/proc/self/status"});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->exit_code, 0) << r->err;
    EXPECT_EQ(StatusMask(r->out, "SigIgn"), 0u) << r->out;
    EXPECT_EQ(StatusMask(r->out, "SigCgt"), 0u) << r->out;
    EXPECT_EQ(StatusMask(r->out, "SigBlk"), 0u) << r->out;
    EXPECT_EQ(StatusMask(r->out, "CapBnd"), 0u) << r->out;
    EXPECT_THAT(r->out, HasSubstr("CapBnd:\t0000000000000000"));
  };
  check();
  std::thread([&] { check(); }).join();
  sigaction(SIGUSR1, &saved[0], nullptr);
  sigaction(SIGUSR2, &saved[1], nullptr);
  sigaction(SIGPIPE, &saved[2], nullptr);
}

TEST(VoidE2e, GrantsAreReadOnlyUnlessAskedForWrites) {
  SHIM_REQUIRE_PRIVILEGED();
  TempDir dir;
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  std::string rw = dir.path() + "/rw", ro = dir.path() + "/ro";
  ASSERT_EQ(mkdir(rw.c_str(), 0755), 0);
  ASSERT_EQ(mkdir(ro.c_str(), 0777), 0);
  ASSERT_EQ(chown(rw.c_str(), 65534, 65534), 0);  // the void's host uid
  auto v =
      PrepareOrDie(MakeEntrypoint(ESCAPE_PROBE, {Grant(rw, "/data", false), Grant(ro, "/ro")}));
  ASSERT_NE(v, nullptr);
  absl::StatusOr<VoidRun> r = RunVoid(*v, {"probe", "write", "/data/out.txt"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0);
  std::ifstream written(rw + "/out.txt");
  std::stringstream content;
  content << written.rdbuf();
  EXPECT_EQ(content.str(), "written\n");
  struct stat st;
  ASSERT_EQ(stat((rw + "/out.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);  // created as the unprivileged host id, never as root
  r = RunVoid(*v, {"probe", "write", "/ro/out.txt"});  // mode 0777 on the host, still read-only
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, EROFS);
}

TEST(VoidE2e, TemplateBindsGrantsOnceAtPrepare) {
  SHIM_REQUIRE_PRIVILEGED();
  TempDir dir;
  std::string data = dir.path() + "/data";
  ASSERT_EQ(mkdir(data.c_str(), 0755), 0);
  std::ofstream(data + "/file") << "at prepare\n";
  VoidOptions eager;
  eager.mount_template_after = 0;
  auto v = PrepareOrDie(MakeEntrypoint(ESCAPE_PROBE, {Grant(data, "/data")}), eager);
  ASSERT_NE(v, nullptr);
  // The supervisor's own cwd survives the mount-namespace switch around each clone.
  char before[4096], after[4096];
  ASSERT_NE(getcwd(before, sizeof before), nullptr);
  absl::StatusOr<VoidRun> r = RunVoid(*v, {"probe", "read", "/data/file"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->out, "at prepare\n");
  ASSERT_NE(getcwd(after, sizeof after), nullptr);
  EXPECT_STREQ(before, after);
  // Later changes inside a granted directory are visible (it is a bind, not a copy).
  std::ofstream(data + "/later") << "later\n";
  r = RunVoid(*v, {"probe", "read", "/data/later"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->out, "later\n");
}

std::string MountNamespaceOf(pid_t pid) {
  char buf[64] = {};
  std::string link = "/proc/" + std::to_string(pid) + "/ns/mnt";
  ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, n) : "";
}

TEST(VoidE2e, TemplateIsBuiltOnTheSecondSpawnAndThenShared) {
  SHIM_REQUIRE_PRIVILEGED();
  auto v = PrepareOrDie(MakeEntrypoint(ESCAPE_PROBE));  // default: template after 1 instance
  ASSERT_NE(v, nullptr);
  SpawnRequest request;
  request.argv = {"probe", "sleep"};
  std::vector<Instance> sleepers;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<Instance> instance = v->Spawn(request);
    ASSERT_TRUE(instance.ok()) << instance.status();
    sleepers.push_back(std::move(*instance));
  }
  const std::string first = MountNamespaceOf(sleepers[0].pid);
  const std::string second = MountNamespaceOf(sleepers[1].pid);
  const std::string third = MountNamespaceOf(sleepers[2].pid);
  EXPECT_NE(first, "");
  EXPECT_NE(first, MountNamespaceOf(getpid()));
  EXPECT_NE(first, second);  // the first instance built its own mounts
  EXPECT_EQ(second, third);  // later ones share the template
  for (Instance& s : sleepers) {
    ASSERT_EQ(PidfdSendSignal(s.pidfd.get(), SIGKILL), 0);
    siginfo_t info = {};
    ASSERT_EQ(waitid(P_PIDFD, s.pidfd.get(), &info, WEXITED), 0);
  }
}

TEST(VoidE2e, MissingBinaryIsAClearPrepareError) {
  SHIM_REQUIRE_PRIVILEGED();
  auto v = PreparedVoid::Prepare(MakeEntrypoint("/nonexistent/binary"));
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("/nonexistent/binary"));
  EXPECT_THAT(v.status().message(), HasSubstr("ENOENT"));
}

TEST(VoidE2e, ScriptBinaryIsAClearPrepareError) {
  SHIM_REQUIRE_PRIVILEGED();
  TempDir dir;
  std::string script = dir.path() + "/script.sh";
  std::ofstream(script) << "#!/bin/sh\necho hi\n";
  ASSERT_EQ(chmod(script.c_str(), 0755), 0);
  auto v = PreparedVoid::Prepare(MakeEntrypoint(script));
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("script"));
}

TEST(VoidE2e, MissingGrantPathIsAClearPrepareError) {
  SHIM_REQUIRE_PRIVILEGED();
  auto v = PreparedVoid::Prepare(MakeEntrypoint("/bin/echo", {Grant("/nonexistent/dir", "/d")}));
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("/nonexistent/dir"));
}

TEST(VoidE2e, GrantVanishedBeforeSpawnNamesTheStep) {
  SHIM_REQUIRE_PRIVILEGED();
  TempDir dir;
  std::string gone = dir.path() + "/gone";
  ASSERT_EQ(mkdir(gone.c_str(), 0755), 0);
  // Without the mount template, grants are opened per instance.
  VoidOptions options;
  options.mount_template = false;
  auto v = PrepareOrDie(MakeEntrypoint("/bin/echo", {Grant(gone, "/gone")}), options);
  ASSERT_NE(v, nullptr);
  ASSERT_EQ(rmdir(gone.c_str()), 0);
  absl::StatusOr<VoidRun> r = RunVoid(*v, {"echo"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("void step 'open_grant_source'"));
  EXPECT_THAT(r.status().message(), HasSubstr(gone));
  EXPECT_THAT(r.status().message(), HasSubstr("ENOENT"));
}

TEST(VoidE2e, ExecFailureNamesTheStep) {
  SHIM_REQUIRE_PRIVILEGED();
  TempDir dir;
  // A binary Prepare accepts and that loses its execute bit before the spawn: execve refuses it.
  std::string bin = dir.path() + "/static_exit";
  {
    std::ifstream in(STATIC_EXIT, std::ios::binary);
    std::ofstream(bin, std::ios::binary) << in.rdbuf();
  }
  ASSERT_EQ(chmod(bin.c_str(), 0755), 0);
  auto v = PrepareOrDie(MakeEntrypoint(bin));
  ASSERT_NE(v, nullptr);
  ASSERT_EQ(chmod(bin.c_str(), 0644), 0);
  absl::StatusOr<VoidRun> r = RunVoid(*v, {"static_exit"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("void step 'execve' failed"));
  EXPECT_THAT(r.status().message(), HasSubstr("EACCES"));
}

TEST(VoidE2e, DebugStopHoldsTheVoidBeforeExec) {
  SHIM_REQUIRE_PRIVILEGED();
  auto v = PrepareOrDie(MakeEntrypoint(STATIC_EXIT));
  ASSERT_NE(v, nullptr);
  SpawnRequest request;
  request.argv = {"static_exit", "5"};
  request.debug_stop = true;
  absl::StatusOr<Instance> instance = v->Spawn(request);
  ASSERT_TRUE(instance.ok()) << instance.status();
  std::ifstream stat_file("/proc/" + std::to_string(instance->pid) + "/stat");
  std::string stat_line;
  std::getline(stat_file, stat_line);
  EXPECT_THAT(stat_line, HasSubstr(") T "));  // stopped
  ASSERT_EQ(PidfdSendSignal(instance->pidfd.get(), SIGCONT), 0);
  siginfo_t info = {};
  ASSERT_EQ(waitid(P_PIDFD, instance->pidfd.get(), &info, WEXITED), 0);
  EXPECT_EQ(info.si_code, CLD_EXITED);
  EXPECT_EQ(info.si_status, 5);
}

TEST(VoidE2e, ClonesIntoTheGivenCgroup) {
  SHIM_REQUIRE_PRIVILEGED();
  absl::StatusOr<std::string> own = OwnCgroup2Dir();
  ASSERT_TRUE(own.ok()) << own.status();
  absl::StatusOr<OwnedCgroup> cg =
      OwnedCgroup::Create(*own, "shim-void-test-" + std::to_string(getpid()));
  ASSERT_TRUE(cg.ok()) << cg.status();
  auto v = PrepareOrDie(MakeEntrypoint(ESCAPE_PROBE, {spec::EnvProcfs{}}));
  ASSERT_NE(v, nullptr);
  RunOptions o;
  o.cgroup_fd = cg->dir_fd();
  absl::StatusOr<VoidRun> r = RunVoid(*v, {"probe", "read", "/proc/self/cgroup"}, o);
  ASSERT_TRUE(r.ok()) << r.status();
  // In its own cgroup namespace, rooted at the cgroup it was cloned into.
  EXPECT_THAT(r->out, HasSubstr("0::/\n"));
  // And seen from the host, it sits in that cgroup from its first instruction.
  SpawnRequest request;
  request.argv = {"probe", "sleep"};
  request.cgroup_fd = cg->dir_fd();
  absl::StatusOr<Instance> sleeper = v->Spawn(request);
  ASSERT_TRUE(sleeper.ok()) << sleeper.status();
  std::ifstream procs(cg->path() + "/cgroup.procs");
  std::string pids((std::istreambuf_iterator<char>(procs)), std::istreambuf_iterator<char>());
  EXPECT_EQ(pids, std::to_string(sleeper->pid) + "\n");
  ASSERT_EQ(PidfdSendSignal(sleeper->pidfd.get(), SIGKILL), 0);
  siginfo_t info = {};
  ASSERT_EQ(waitid(P_PIDFD, sleeper->pidfd.get(), &info, WEXITED), 0);
}

// The v1 pids hierarchy (hybrid hosts), beneath this process's own pids cgroup, or "".
std::string OwnV1PidsCgroup() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    auto second = line.find(':', colon + 1);
    if (colon == std::string::npos || second == std::string::npos) continue;
    if (line.substr(colon + 1, second - colon - 1) != "pids") continue;
    std::string dir = "/sys/fs/cgroup/pids" + line.substr(second + 1);
    struct stat st;
    if (stat((dir + "/cgroup.procs").c_str(), &st) == 0) return dir;
  }
  return "";
}

// Spawns `probe sleep` from `v` with `procs_fd` as its one v1 cgroup to join.
absl::StatusOr<Instance> SpawnSleeperJoining(const PreparedVoid& v, int procs_fd) {
  SpawnRequest request;
  request.argv = {"probe", "sleep"};
  request.extra_v1_cgroup_procs_fds = {procs_fd};
  return v.Spawn(request);
}

// A pure cgroup v2 host has no v1 hierarchy to join: nothing to test there, and nothing the
// supervisor would pass.
#define RETURN_ON_PURE_V2_HOST(own)                                                       \
  if ((own).empty()) {                                                                    \
    struct stat st;                                                                       \
    ASSERT_NE(stat("/sys/fs/cgroup/pids", &st), 0) << "v1 pids is mounted but not found"; \
    return;                                                                               \
  }

TEST(VoidE2e, JoinsExtraV1CgroupsBeforeExec) {
  SHIM_REQUIRE_PRIVILEGED();
  const std::string own = OwnV1PidsCgroup();
  RETURN_ON_PURE_V2_HOST(own);
  const std::string dir = own + "/shim-void-test-" + std::to_string(getpid());
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << dir;
  struct Cleanup {
    std::string dir;
    ~Cleanup() { rmdir(dir.c_str()); }
  } cleanup{dir};
  UniqueFd procs(open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
  ASSERT_TRUE(procs.valid());
  auto v = PrepareOrDie(MakeEntrypoint(ESCAPE_PROBE));
  ASSERT_NE(v, nullptr);
  absl::StatusOr<Instance> sleeper = SpawnSleeperJoining(*v, procs.get());
  ASSERT_TRUE(sleeper.ok()) << sleeper.status();
  std::ifstream members(dir + "/cgroup.procs");
  std::string pids((std::istreambuf_iterator<char>(members)), std::istreambuf_iterator<char>());
  EXPECT_EQ(pids, std::to_string(sleeper->pid) + "\n");
  ASSERT_EQ(PidfdSendSignal(sleeper->pidfd.get(), SIGKILL), 0);
  siginfo_t info = {};
  ASSERT_EQ(waitid(P_PIDFD, sleeper->pidfd.get(), &info, WEXITED), 0);
}

// The supervisor moves the child into its v1 cgroups while the child sets itself up; a move that
// fails names the cgroup, and the child, which waited for it before execve, is gone.
TEST(VoidE2e, AFailedV1CgroupMoveNamesTheCgroupAndLeavesNoChild) {
  SHIM_REQUIRE_PRIVILEGED();
  const std::string own = OwnV1PidsCgroup();
  RETURN_ON_PURE_V2_HOST(own);
  // Opened read-only: the move's write fails (EBADF) as a vanished cgroup's would.
  UniqueFd procs(open((own + "/cgroup.procs").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(procs.valid());
  auto v = PrepareOrDie(MakeEntrypoint(ESCAPE_PROBE));
  ASSERT_NE(v, nullptr);
  absl::StatusOr<Instance> instance = SpawnSleeperJoining(*v, procs.get());
  ASSERT_FALSE(instance.ok());
  EXPECT_THAT(
      std::string(instance.status().message()),
      HasSubstr("void step 'join_v1_cgroup' failed (" +
                std::filesystem::path(own + "/cgroup.procs").lexically_normal().string() + ")"));
  EXPECT_THAT(std::string(instance.status().message()), HasSubstr("EBADF"));
  siginfo_t info = {};
  EXPECT_EQ(waitid(P_ALL, 0, &info, WEXITED | WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD) << "the child was not reaped";
}

}  // namespace
}  // namespace shim::sandbox::testing
