// RunCgroups on the real host (root): limits really enforced through whichever backend the plan
// chose (v1 memory/pids/cpu on this hybrid machine), processes joining instance cgroups the way
// the void does (CLONE_INTO_CGROUP into the v2 dir, "0" into each v1 cgroup.procs fd), stale runs
// of dead supervisors removed, and nothing left behind.
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "cgroup/members.h"
#include "cgroup/run_cgroups.h"
#include "common/file_util.h"
#include "support/privileged.h"

namespace shim::cgroup {
namespace {

using ::testing::HasSubstr;

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// Starts `body` in a child that joined `inst` before running it: via clone3(CLONE_INTO_CGROUP)
// for v2 (or by writing "0" to the v2 cgroup.procs when `clone_into` is false) and by writing
// "0" into each v1 cgroup.procs fd, as the void does before exec.
pid_t SpawnIn(const InstanceCgroup& inst, const std::function<int()>& body, bool clone_into = true,
              uint64_t extra_flags = 0) {
  pid_t pid;
  if (clone_into) {
    clone_args args{};
    args.flags = CLONE_INTO_CGROUP | extra_flags;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<uint64_t>(inst.v2_dir_fd());
    pid = static_cast<pid_t>(syscall(SYS_clone3, &args, sizeof(args)));
  } else {
    pid = fork();
  }
  if (pid != 0) return pid;
  if (!clone_into) {
    int fd = openat(inst.v2_dir_fd(), "cgroup.procs", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) _exit(121);
    close(fd);
  }
  for (int fd : inst.v1_procs_fds()) {
    if (write(fd, "0", 1) != 1) _exit(120);
  }
  _exit(body());
}

int WaitStatus(pid_t pid) {
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return status;
}

// The run dir of the hierarchy carrying `r` (v1 or v2), beneath which this instance sits.
std::string InstanceDirFor(const RunCgroups& run, const InstanceCgroup& inst, Resource r) {
  const ResourcePlan& p = run.plan().For(r);
  for (const std::string& dir : inst.dirs()) {
    if (dir.rfind(p.base_dir + "/shim-bpf/", 0) == 0) return dir;
  }
  return "";
}

class RunCgroupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Grandchildren of the fork-bomb test are reaped here, not left as zombies under init.
    prctl(PR_SET_CHILD_SUBREAPER, 1);
  }
  void TearDown() override {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
};

TEST_F(RunCgroupsTest, DescribesEveryResourceAndCreatesTheRunTree) {
  SHIM_REQUIRE_PRIVILEGED();
  absl::StatusOr<RunCgroups> run = RunCgroups::Create();
  ASSERT_TRUE(run.ok()) << run.status();
  std::vector<std::string> lines = run->Describe();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[0], HasSubstr("clone, kill, BPF: cgroup v2 ("));
  EXPECT_THAT(lines[1], HasSubstr("memory: cgroup v"));
  EXPECT_THAT(lines[2], HasSubstr("pids: cgroup v"));
  EXPECT_THAT(lines[3], HasSubstr("cpu: cgroup v"));
  for (const std::string& dir : run->run_dirs()) EXPECT_TRUE(Exists(dir)) << dir;
  EXPECT_GE(run->v2_fd(), 0);
  EXPECT_NE(run->v2_id(), 0u);
  EXPECT_EQ(run->run_id(), *RunIdFor(getpid()));
  spec::Limits all;
  all.memory_bytes = 64 << 20;
  all.pids = 16;
  all.cpu_percent = 50;
  EXPECT_TRUE(run->CheckEnforceable(all).ok());
}

TEST_F(RunCgroupsTest, MemoryLimitOomKillsOnlyTheOffendingInstance) {
  SHIM_REQUIRE_PRIVILEGED();
  absl::StatusOr<RunCgroups> run = RunCgroups::Create();
  ASSERT_TRUE(run.ok()) << run.status();
  spec::Limits limits;
  limits.memory_bytes = 64 << 20;
  absl::StatusOr<InstanceCgroup> hog = run->CreateInstance("mem", "hog", limits);
  ASSERT_TRUE(hog.ok()) << hog.status();
  absl::StatusOr<InstanceCgroup> calm = run->CreateInstance("mem", "calm", limits);
  ASSERT_TRUE(calm.ok()) << calm.status();
  const std::string dir = InstanceDirFor(*run, *hog, Resource::kMemory);
  ASSERT_FALSE(dir.empty());
  if (run->plan().For(Resource::kMemory).backend == Backend::kV1) {
    EXPECT_EQ(*ReadFileToString(dir + "/memory.limit_in_bytes"), "67108864\n");
  } else {
    EXPECT_EQ(*ReadFileToString(dir + "/memory.max"), "67108864\n");
  }

  int go[2];
  ASSERT_EQ(pipe2(go, O_CLOEXEC), 0);
  const pid_t calm_pid = SpawnIn(*calm, [&] {
    close(go[1]);
    // 8 MB of real use, then wait for the hog's fate.
    char* p = static_cast<char*>(
        mmap(nullptr, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED) return 3;
    memset(p, 1, 8 << 20);
    char c;
    return read(go[0], &c, 1) == 0 ? 0 : 4;
  });
  const pid_t hog_pid = SpawnIn(*hog, [] {
    const size_t size = 200 << 20;
    char* p = static_cast<char*>(
        mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED) return 3;
    for (size_t i = 0; i < size; i += 4096) p[i] = 1;
    return 0;  // the limit did not hold
  });
  close(go[0]);
  const int hog_status = WaitStatus(hog_pid);
  close(go[1]);
  const int calm_status = WaitStatus(calm_pid);

  ASSERT_TRUE(WIFSIGNALED(hog_status)) << "hog exited " << WEXITSTATUS(hog_status);
  EXPECT_EQ(WTERMSIG(hog_status), SIGKILL);
  EXPECT_TRUE(hog->OomKilled());
  std::optional<uint64_t> peak = hog->PeakMemoryBytes();
  ASSERT_TRUE(peak.has_value());
  EXPECT_GT(*peak, uint64_t{48} << 20);
  EXPECT_LE(*peak, uint64_t{64} << 20);

  ASSERT_TRUE(WIFEXITED(calm_status));
  EXPECT_EQ(WEXITSTATUS(calm_status), 0);
  EXPECT_FALSE(calm->OomKilled());
  std::optional<uint64_t> calm_peak = calm->PeakMemoryBytes();
  ASSERT_TRUE(calm_peak.has_value());
  EXPECT_GE(*calm_peak, uint64_t{8} << 20);
  EXPECT_LT(*calm_peak, uint64_t{48} << 20);
}

TEST_F(RunCgroupsTest, PidsLimitCapsAForkBomb) {
  SHIM_REQUIRE_PRIVILEGED();
  absl::StatusOr<RunCgroups> run = RunCgroups::Create();
  ASSERT_TRUE(run.ok()) << run.status();
  spec::Limits limits;
  limits.pids = 16;
  absl::StatusOr<InstanceCgroup> inst = run->CreateInstance("bomb", "0", limits);
  ASSERT_TRUE(inst.ok()) << inst.status();
  const std::string dir = InstanceDirFor(*run, *inst, Resource::kPids);
  EXPECT_EQ(*ReadFileToString(dir + "/pids.max"), "16\n");
  // Beyond PID_MAX_LIMIT (which the kernel refuses to write) a limit means no limit.
  spec::Limits huge;
  huge.pids = 5000000;
  absl::StatusOr<InstanceCgroup> unbounded = run->CreateInstance("bomb", "huge", huge);
  ASSERT_TRUE(unbounded.ok()) << unbounded.status();
  EXPECT_EQ(*ReadFileToString(InstanceDirFor(*run, *unbounded, Resource::kPids) + "/pids.max"),
            "max\n");

  int report[2];
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  const pid_t pid = SpawnIn(*inst, [&] {
    close(report[0]);
    int ok = 0;
    for (int i = 0; i < 100; ++i) {
      pid_t c = fork();
      if (c == 0) {
        pause();  // held until Kill()
        _exit(0);
      }
      if (c > 0) ++ok;
    }
    (void)!write(report[1], &ok, sizeof(ok));
    pause();
    return 0;
  });
  close(report[1]);
  int forks = -1;
  ASSERT_EQ(read(report[0], &forks, sizeof(forks)), static_cast<ssize_t>(sizeof(forks)));
  close(report[0]);
  EXPECT_GE(forks, 1);
  EXPECT_LE(forks, 15);  // 16 tasks including the forking process itself
  absl::StatusOr<std::vector<pid_t>> members = CgroupProcs(dir);
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(static_cast<int>(members->size()), forks + 1);

  ASSERT_TRUE(inst->Kill().ok());
  const int status = WaitStatus(pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  for (const std::string& d : inst->dirs()) EXPECT_TRUE(CgroupProcs(d)->empty()) << d;
}

// Busy for `wall` of wall-clock time; returns CPU time used in ms (capped to 255*10ms units).
int SpinAndReportCpuTenthsOfWall(int wall_ms) {
  timespec start{}, now{}, cpu{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  volatile uint64_t x = 0;
  do {
    for (int i = 0; i < 100000; ++i) x = x + i;
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < wall_ms);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
  const long cpu_ms = cpu.tv_sec * 1000 + cpu.tv_nsec / 1000000;
  return static_cast<int>(cpu_ms * 100 / wall_ms);  // percent of one CPU
}

TEST_F(RunCgroupsTest, CpuLimitIsWrittenAndHolds) {
  SHIM_REQUIRE_PRIVILEGED();
  absl::StatusOr<RunCgroups> run = RunCgroups::Create();
  ASSERT_TRUE(run.ok()) << run.status();
  spec::Limits half;
  half.cpu_percent = 50;
  absl::StatusOr<InstanceCgroup> inst = run->CreateInstance("cpu", "half", half);
  ASSERT_TRUE(inst.ok()) << inst.status();
  spec::Limits two;
  two.cpu_percent = 200;
  absl::StatusOr<InstanceCgroup> wide = run->CreateInstance("cpu", "two", two);
  ASSERT_TRUE(wide.ok()) << wide.status();
  const std::string dir = InstanceDirFor(*run, *inst, Resource::kCpu);
  const std::string wide_dir = InstanceDirFor(*run, *wide, Resource::kCpu);
  if (run->plan().For(Resource::kCpu).backend == Backend::kV1) {
    EXPECT_EQ(*ReadFileToString(dir + "/cpu.cfs_period_us"), "100000\n");
    EXPECT_EQ(*ReadFileToString(dir + "/cpu.cfs_quota_us"), "50000\n");
    EXPECT_EQ(*ReadFileToString(wide_dir + "/cpu.cfs_quota_us"), "200000\n");
  } else {
    EXPECT_EQ(*ReadFileToString(dir + "/cpu.max"), "50000 100000\n");
    EXPECT_EQ(*ReadFileToString(wide_dir + "/cpu.max"), "200000 100000\n");
  }
  // Measured: a busy loop for 1 s of wall-clock time gets at most ~half a CPU. (Only an upper
  // bound: other load on the machine can only lower it.)
  const pid_t pid = SpawnIn(*inst, [] { return SpinAndReportCpuTenthsOfWall(1000); });
  const int status = WaitStatus(pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_LE(WEXITSTATUS(status), 62) << "percent of one CPU used under a 50% limit";
  EXPECT_GE(WEXITSTATUS(status), 2);  // it did run (the machine may be loaded)
}

TEST_F(RunCgroupsTest, KillKillsEveryProcessOfTheInstanceOnly) {
  SHIM_REQUIRE_PRIVILEGED();
  absl::StatusOr<RunCgroups> run = RunCgroups::Create();
  ASSERT_TRUE(run.ok()) << run.status();
  absl::StatusOr<InstanceCgroup> a = run->CreateInstance("ep", "a", spec::Limits{});
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<InstanceCgroup> b = run->CreateInstance("ep", "b", spec::Limits{});
  ASSERT_TRUE(b.ok()) << b.status();
  // One joins v2 by CLONE_INTO_CGROUP, the other by writing cgroup.procs.
  const pid_t pa = SpawnIn(*a, [] {
    pause();
    return 0;
  });
  const pid_t pb = SpawnIn(
      *b,
      [] {
        pause();
        return 0;
      },
      /*clone_into=*/false);
  // Both are members of their instance in every hierarchy.
  for (const auto& [inst, pid] : {std::pair{&*a, pa}, std::pair{&*b, pb}}) {
    for (const std::string& d : inst->dirs()) {
      for (int i = 0; i < 1000 && CgroupProcs(d)->empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      EXPECT_THAT(*CgroupProcs(d), ::testing::ElementsAre(pid)) << d;
    }
  }
  ASSERT_TRUE(a->Kill().ok());
  const int status = WaitStatus(pa);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_EQ(waitpid(pb, nullptr, WNOHANG), 0) << "the sibling instance must survive";
  ASSERT_TRUE(b->Kill().ok());
  const int status_b = WaitStatus(pb);
  EXPECT_TRUE(WIFSIGNALED(status_b) && WTERMSIG(status_b) == SIGKILL);
}

// The void clones into fresh user/pid/cgroup namespaces and only then writes the v1 fds: the
// supervisor-opened fds must still work from there (the kernel checks the opener's credentials).
TEST_F(RunCgroupsTest, ChildInNewNamespacesJoinsV1ThroughTheSupervisorsFds) {
  SHIM_REQUIRE_PRIVILEGED();
  absl::StatusOr<RunCgroups> run = RunCgroups::Create();
  ASSERT_TRUE(run.ok()) << run.status();
  spec::Limits limits;
  limits.memory_bytes = 64 << 20;
  limits.pids = 8;
  absl::StatusOr<InstanceCgroup> inst = run->CreateInstance("ns", "1", limits);
  ASSERT_TRUE(inst.ok()) << inst.status();
  const pid_t pid = SpawnIn(
      *inst,
      [] {
        pause();
        return 0;
      },
      /*clone_into=*/true, CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWCGROUP | CLONE_NEWNS);
  ASSERT_GT(pid, 0) << strerror(errno);
  for (const std::string& d : inst->dirs()) {
    for (int i = 0; i < 1000 && CgroupProcs(d)->empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_THAT(*CgroupProcs(d), ::testing::ElementsAre(pid)) << d;
  }
  ASSERT_TRUE(inst->Kill().ok());
  const int status = WaitStatus(pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "exit " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

TEST_F(RunCgroupsTest, PreparedInstancesAreHandedOutInOrderWithTheirLimits) {
  SHIM_REQUIRE_PRIVILEGED();
  absl::StatusOr<RunCgroups> run = RunCgroups::Create();
  ASSERT_TRUE(run.ok()) << run.status();
  spec::Limits limits;
  limits.pids = 5;
  limits.memory_bytes = 32 << 20;
  // A caller-named instance "1" already exists: the counter skips it.
  absl::StatusOr<InstanceCgroup> manual = run->CreateInstance("ep", "1", limits);
  ASSERT_TRUE(manual.ok()) << manual.status();
  ASSERT_TRUE(run->Prepare("ep", limits, 3).ok());
  const std::string ep_dir = run->v2_path() + "/ep/";
  for (const char* name : {"0", "2", "3"}) EXPECT_TRUE(Exists(ep_dir + name)) << name;
  EXPECT_FALSE(Exists(ep_dir + "4"));

  absl::StatusOr<InstanceCgroup> first = run->NextInstance("ep", limits);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->name(), "0");
  EXPECT_EQ(*ReadFileToString(InstanceDirFor(*run, *first, Resource::kPids) + "/pids.max"), "5\n");
  // It works like any instance: a process joins it and is limited.
  const pid_t pid = SpawnIn(*first, [] { return 7; });
  const int status = WaitStatus(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7);
  EXPECT_TRUE(first->PeakMemoryBytes().has_value());

  ASSERT_TRUE(run->Prepare("ep", limits, 3).ok());  // tops up with "4"
  EXPECT_TRUE(Exists(ep_dir + "4"));
  EXPECT_EQ(run->NextInstance("ep", limits)->name(), "2");

  // Other limits never get a spare made for different ones.
  spec::Limits other;
  other.pids = 6;
  absl::StatusOr<InstanceCgroup> fresh = run->NextInstance("ep", other);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(fresh->name(), "5");
  EXPECT_EQ(*ReadFileToString(InstanceDirFor(*run, *fresh, Resource::kPids) + "/pids.max"), "6\n");
  // Preparing for other limits drops the old spares ("3" and "4").
  ASSERT_TRUE(run->Prepare("ep", other, 1).ok());
  EXPECT_FALSE(Exists(ep_dir + "3"));
  EXPECT_FALSE(Exists(ep_dir + "4"));
  EXPECT_TRUE(Exists(ep_dir + "6"));
}

// Triggered entrypoints may start instances from several threads.
TEST_F(RunCgroupsTest, ConcurrentCreateInstanceIsSafe) {
  SHIM_REQUIRE_PRIVILEGED();
  absl::StatusOr<RunCgroups> run = RunCgroups::Create();
  ASSERT_TRUE(run.ok()) << run.status();
  spec::Limits limits;
  limits.memory_bytes = 16 << 20;
  limits.pids = 4;
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        // Each thread uses a fresh entrypoint now and then, racing on its creation too.
        const std::string ep = absl::StrCat("ep", i % 5);
        absl::StatusOr<InstanceCgroup> inst =
            run->CreateInstance(ep, absl::StrCat(t, "-", i), limits);
        if (!inst.ok() || !inst->Remove().ok()) ++failures[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

TEST_F(RunCgroupsTest, InstanceNamesAreCheckedAndDestructionRemovesTheInstance) {
  SHIM_REQUIRE_PRIVILEGED();
  absl::StatusOr<RunCgroups> run = RunCgroups::Create();
  ASSERT_TRUE(run.ok()) << run.status();
  std::vector<std::string> dirs;
  {
    spec::Limits limits;
    limits.memory_bytes = 32 << 20;
    limits.pids = 4;
    absl::StatusOr<InstanceCgroup> inst = run->CreateInstance("ep", "1", limits);
    ASSERT_TRUE(inst.ok()) << inst.status();
    dirs = inst->dirs();
    EXPECT_EQ(run->CreateInstance("ep", "1", limits).status().code(),
              absl::StatusCode::kAlreadyExists);
    EXPECT_EQ(run->CreateInstance("../x", "2", limits).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(run->CreateInstance("ep", "", limits).status().code(),
              absl::StatusCode::kInvalidArgument);
    for (const std::string& d : dirs) EXPECT_TRUE(Exists(d)) << d;
    // The failed duplicate did not remove the live instance.
    const pid_t pid = SpawnIn(*inst, [] {
      pause();
      return 0;
    });
    for (const std::string& d : dirs) {
      for (int i = 0; i < 1000 && CgroupProcs(d)->empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    inst = absl::StatusOr<InstanceCgroup>(absl::CancelledError());  // destroys the instance
    const int status = WaitStatus(pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
  for (const std::string& d : dirs) EXPECT_FALSE(Exists(d)) << d;
}

TEST_F(RunCgroupsTest, UnlimitedInstancesStillReportPeakMemoryUnlessTrackingIsOff) {
  SHIM_REQUIRE_PRIVILEGED();
  absl::StatusOr<RunCgroups> run = RunCgroups::Create();
  ASSERT_TRUE(run.ok()) << run.status();
  absl::StatusOr<InstanceCgroup> inst = run->CreateInstance("ep", "1", spec::Limits{});
  ASSERT_TRUE(inst.ok()) << inst.status();
  const pid_t pid = SpawnIn(*inst, [] {
    char* p = static_cast<char*>(
        mmap(nullptr, 16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED) return 3;
    memset(p, 1, 16 << 20);
    return 0;
  });
  const int status = WaitStatus(pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::optional<uint64_t> peak = inst->PeakMemoryBytes();
  ASSERT_TRUE(peak.has_value());
  EXPECT_GE(*peak, uint64_t{16} << 20);
  EXPECT_FALSE(inst->OomKilled());

  if (run->plan().For(Resource::kMemory).backend == Backend::kV1) {
    RunCgroupsOptions options;
    options.run_id = absl::StrCat(getpid(), "-untracked");
    options.track_memory = false;
    absl::StatusOr<RunCgroups> untracked = RunCgroups::Create(options);
    ASSERT_TRUE(untracked.ok()) << untracked.status();
    absl::StatusOr<InstanceCgroup> bare = untracked->CreateInstance("ep", "1", spec::Limits{});
    ASSERT_TRUE(bare.ok()) << bare.status();
    EXPECT_EQ(bare->dirs().size(), 1u);  // the v2 dir only
    EXPECT_TRUE(bare->v1_procs_fds().empty());
    EXPECT_FALSE(bare->PeakMemoryBytes().has_value());
  }
}

TEST_F(RunCgroupsTest, DestructionKillsEverythingAndLeavesNoDirs) {
  SHIM_REQUIRE_PRIVILEGED();
  std::vector<std::string> run_dirs;
  pid_t pid = -1;
  std::optional<InstanceCgroup> outliving;
  {
    absl::StatusOr<RunCgroups> run = RunCgroups::Create();
    ASSERT_TRUE(run.ok()) << run.status();
    run_dirs = run->run_dirs();
    EXPECT_GE(run_dirs.size(), 1u);
    spec::Limits limits;
    limits.memory_bytes = 64 << 20;
    limits.pids = 8;
    limits.cpu_percent = 100;
    absl::StatusOr<InstanceCgroup> inst = run->CreateInstance("ep", "1", limits);
    ASSERT_TRUE(inst.ok()) << inst.status();
    pid = SpawnIn(*inst, [] {
      if (fork() == 0) pause();  // a grandchild too
      pause();
      return 0;
    });
    outliving.emplace(std::move(*inst));  // destroyed after the run: must be harmless
  }
  const int status = WaitStatus(pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  for (const std::string& d : run_dirs) EXPECT_FALSE(Exists(d)) << d;
  // A later run of this process reuses the run id, so the same paths: the stale instance object
  // must not remove the new run's dirs.
  absl::StatusOr<RunCgroups> next = RunCgroups::Create();
  ASSERT_TRUE(next.ok()) << next.status();
  absl::StatusOr<InstanceCgroup> same = next->CreateInstance("ep", "1", spec::Limits{});
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(outliving->Kill().ok());
  EXPECT_TRUE(outliving->Remove().ok());
  outliving.reset();
  for (const std::string& d : same->dirs()) EXPECT_TRUE(Exists(d)) << d;
}

// The v2 path of a modern host, where the supervisor must leave its own cgroup before it can
// enable controllers for children. This host's v2 hierarchy offers no memory/pids/cpu, so the plan
// is forced: a child process in a fresh v2 cgroup T runs RunCgroups with v2_move_self set.
std::string MoveSelfScenario(const std::string& t, const std::string& run_id) {
  absl::StatusOr<Host> host = DetectHost();
  if (!host.ok()) return host.status().ToString();
  if (host->v2->own_dir != t) return "child is not in T but in " + host->v2->own_dir;
  absl::StatusOr<Plan> plan = PlanLimits(*host);
  if (!plan.ok()) return plan.status().ToString();
  if (plan->v2_base != t) return "plan base " + plan->v2_base;
  plan->v2_move_self = true;
  RunCgroupsOptions options;
  options.plan = *plan;
  const std::string leaf = t + "/shim-bpf/" + run_id + ".supervisor";
  {
    absl::StatusOr<RunCgroups> run = RunCgroups::Create(options);
    if (!run.ok()) return "first Create: " + run.status().ToString();
    absl::StatusOr<std::vector<pid_t>> in_leaf = CgroupProcs(leaf);
    if (!in_leaf.ok() || in_leaf->size() != 1 || (*in_leaf)[0] != getpid()) {
      return "the supervisor did not move into " + leaf;
    }
    if (!CgroupProcs(t)->empty()) return "T still holds processes";
    if (run->v2_path() != t + "/shim-bpf/" + run_id) return "run dir " + run->v2_path();
    spec::Limits limits;
    limits.pids = 4;
    absl::StatusOr<InstanceCgroup> inst = run->CreateInstance("ep", "1", limits);
    if (!inst.ok()) return "CreateInstance: " + inst.status().ToString();
  }
  if (Exists(t + "/shim-bpf/" + run_id)) return "run dir left behind";
  if (!Exists(leaf)) return "the supervisor's leaf vanished while it is inside";
  // A second run of the same process starts from its leaf: the base is T again, no second move.
  absl::StatusOr<Plan> again = PlanLimits(*DetectHost());
  if (!again.ok()) return again.status().ToString();
  if (again->v2_base != t || again->v2_move_self) return "second plan base " + again->v2_base;
  absl::StatusOr<RunCgroups> second = RunCgroups::Create(RunCgroupsOptions{});
  if (!second.ok()) return "second Create: " + second.status().ToString();
  if (second->v2_path() != t + "/shim-bpf/" + run_id) return "second run dir " + second->v2_path();
  return "";
}

TEST_F(RunCgroupsTest, SupervisorMovesIntoALeafToDelegateV2ControllersAndALaterRunRemovesIt) {
  SHIM_REQUIRE_PRIVILEGED();
  absl::StatusOr<Host> host = DetectHost();
  ASSERT_TRUE(host.ok()) << host.status();
  const std::string t = absl::StrCat(host->v2->own_dir, "/shim-bpf-move-test-", getpid());
  ASSERT_EQ(mkdir(t.c_str(), 0755), 0) << t;
  int report[2];
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  int go[2];
  ASSERT_EQ(pipe2(go, O_CLOEXEC), 0);
  const pid_t child = fork();
  if (child == 0) {
    close(report[0]);
    close(go[1]);
    char c;
    if (read(go[0], &c, 1) != 1) _exit(2);
    const std::string error = MoveSelfScenario(t, *RunIdFor(getpid()));
    (void)!write(report[1], error.data(), error.size());
    _exit(error.empty() ? 0 : 1);
  }
  close(report[1]);
  close(go[0]);
  ASSERT_TRUE(WriteStringToFile(t + "/cgroup.procs", std::to_string(child)).ok());
  const std::string child_run_id = *RunIdFor(child);
  ASSERT_EQ(write(go[1], "x", 1), 1);
  close(go[1]);
  char buf[4096];
  const ssize_t n = read(report[0], buf, sizeof(buf));
  close(report[0]);
  const int status = WaitStatus(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);

  // The dead supervisor's leaf is stale now; a run based at T removes it.
  const std::string leaf = t + "/shim-bpf/" + child_run_id + ".supervisor";
  EXPECT_TRUE(Exists(leaf));
  absl::StatusOr<Plan> plan = PlanLimits(*host);
  ASSERT_TRUE(plan.ok()) << plan.status();
  plan->v2_base = t;
  plan->v2_base_is_root = false;
  RunCgroupsOptions options;
  options.plan = *plan;
  options.run_id = absl::StrCat(getpid(), "-move-test");
  {
    absl::StatusOr<RunCgroups> run = RunCgroups::Create(options);
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_FALSE(Exists(leaf));
  }
  EXPECT_FALSE(Exists(t + "/shim-bpf"));
  EXPECT_TRUE(RemoveTree(t).ok());
}

TEST_F(RunCgroupsTest, CreateRemovesRunsOfDeadSupervisorsOnly) {
  SHIM_REQUIRE_PRIVILEGED();
  absl::StatusOr<Host> host = DetectHost();
  ASSERT_TRUE(host.ok()) << host.status();
  absl::StatusOr<Plan> plan = PlanLimits(*host);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::vector<std::string> bases{plan->v2_base};
  for (Resource r : kAllResources) {
    if (plan->For(r).backend == Backend::kV1) bases.push_back(plan->For(r).base_dir);
  }
  // A dead supervisor: a child that has exited and been reaped.
  const pid_t dead = fork();
  if (dead == 0) _exit(0);
  WaitStatus(dead);
  const std::string stale = absl::StrCat(dead, "-1");
  const std::string live = *RunIdFor(getpid());  // looks like a run, and its supervisor lives
  const std::string foreign = "not-a-run";
  for (const std::string& base : bases) {
    const std::string shim = base + "/shim-bpf";
    mkdir(shim.c_str(), 0755);
    for (const std::string& name : {stale, live, foreign}) {
      ASSERT_EQ(mkdir((shim + "/" + name).c_str(), 0755), 0) << shim << "/" << name;
    }
    ASSERT_EQ(mkdir((shim + "/" + stale + "/ep").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((shim + "/" + stale + "/ep/1").c_str(), 0755), 0);
  }
  // Paused children must not outlive the test whatever happens to it (one left behind keeps
  // ctest waiting on its output pipe). A run of another test in parallel may remove the stale
  // run (and kill its orphans) before this test's own Create does: that is the same guarantee.
  struct ChildGuard {
    std::vector<pid_t> pids;
    ~ChildGuard() {
      for (pid_t pid : pids) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
    int Reap(pid_t pid) {
      std::erase(pids, pid);
      return WaitStatus(pid);
    }
  } children;
  auto paused_child = [&]() {
    const pid_t pid = fork();
    if (pid == 0) {
      pause();
      _exit(0);
    }
    children.pids.push_back(pid);
    return pid;
  };
  // A process the dead supervisor left behind in its v2 instance dir.
  const std::string stale_v2_instance = plan->v2_base + "/shim-bpf/" + stale + "/ep/1";
  const pid_t orphan = paused_child();
  ASSERT_TRUE(WriteStringToFile(stale_v2_instance + "/cgroup.procs", std::to_string(orphan)).ok());
  // And one only in a v1 instance dir (no cgroup.kill there: killed through its pidfd).
  pid_t v1_orphan = -1;
  if (bases.size() > 1) {
    v1_orphan = paused_child();
    ASSERT_TRUE(WriteStringToFile(bases[1] + "/shim-bpf/" + stale + "/ep/1/cgroup.procs",
                                  std::to_string(v1_orphan))
                    .ok());
  }

  RunCgroupsOptions options;
  // Not shaped like "<pid>-<ticks>", so concurrent runs on this machine never judge it stale.
  options.run_id = absl::StrCat(getpid(), "-stale-test");
  {
    absl::StatusOr<RunCgroups> run = RunCgroups::Create(options);
    ASSERT_TRUE(run.ok()) << run.status();
    const int status = children.Reap(orphan);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    if (v1_orphan > 0) {
      const int v1_status = children.Reap(v1_orphan);
      EXPECT_TRUE(WIFSIGNALED(v1_status) && WTERMSIG(v1_status) == SIGKILL);
    }
    for (const std::string& base : bases) {
      EXPECT_FALSE(Exists(base + "/shim-bpf/" + stale)) << base;
      EXPECT_TRUE(Exists(base + "/shim-bpf/" + live)) << base;
      EXPECT_TRUE(Exists(base + "/shim-bpf/" + foreign)) << base;
    }
  }
  for (const std::string& base : bases) {
    EXPECT_FALSE(Exists(base + "/shim-bpf/" + options.run_id.value())) << base;
    EXPECT_EQ(rmdir((base + "/shim-bpf/" + live).c_str()), 0);
    EXPECT_EQ(rmdir((base + "/shim-bpf/" + foreign).c_str()), 0);
    rmdir((base + "/shim-bpf").c_str());  // if no one else uses it
  }
}

}  // namespace
}  // namespace shim::cgroup
