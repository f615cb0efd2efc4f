// Backend detection and planning against fake cgroup trees in a temporary directory: a hybrid
// host like this machine, a modern pure-v2 host (delegated or needing the supervisor to move into
// a leaf), and hosts where a limit cannot be enforced.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cgroup/host.h"
#include "cgroup/limits_plan.h"
#include "cgroup/run_cgroups.h"

namespace shim::cgroup {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class FakeRoot {
 public:
  FakeRoot() {
    char tmpl[] = "/tmp/shim-cgroup-fake-XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  ~FakeRoot() { std::filesystem::remove_all(root_); }
  const std::string& root() const { return root_; }

  void Write(const std::string& rel, const std::string& content) {
    const std::filesystem::path p = root_ + rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }
  void Mkdir(const std::string& rel) { std::filesystem::create_directories(root_ + rel); }

  // A v2 cgroup directory with its interface files.
  void V2Dir(const std::string& rel, const std::string& controllers,
             const std::string& subtree_control, const std::string& procs) {
    Write(rel + "/cgroup.controllers", controllers + "\n");
    Write(rel + "/cgroup.subtree_control", subtree_control + "\n");
    Write(rel + "/cgroup.procs", procs);
  }

 private:
  std::string root_;
};

constexpr char kHybridMountinfo[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n";
constexpr char kHybridCgroup[] =
    "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n2:cpuacct:/\n1:cpu:/\n0::/\n";

spec::Limits AllLimits() {
  spec::Limits l;
  l.memory_bytes = 64 << 20;
  l.pids = 16;
  l.cpu_percent = 50;
  l.pointer = "/entrypoints/worker/limits";
  return l;
}

TEST(HostTest, HybridHostFindsV2AndEachV1HierarchyBeneathOwnCgroups) {
  FakeRoot fs;
  fs.Write("/proc/self/mountinfo", kHybridMountinfo);
  fs.Write("/proc/self/cgroup", kHybridCgroup);
  absl::StatusOr<Host> host = DetectHost(fs.root());
  ASSERT_TRUE(host.ok()) << host.status();
  ASSERT_TRUE(host->v2.has_value());
  EXPECT_EQ(host->v2->mount_point, fs.root() + "/sys/fs/cgroup/unified");
  EXPECT_EQ(host->v2->own_dir, fs.root() + "/sys/fs/cgroup/unified");
  EXPECT_TRUE(host->v2->own_is_root);
  ASSERT_NE(host->V1With("memory"), nullptr);
  EXPECT_EQ(host->V1With("memory")->own_dir, fs.root() + "/sys/fs/cgroup/memory/process_api/abc");
  EXPECT_FALSE(host->V1With("memory")->own_is_root);
  ASSERT_NE(host->V1With("cpu"), nullptr);
  EXPECT_EQ(host->V1With("cpu")->own_dir, fs.root() + "/sys/fs/cgroup/cpu");
  EXPECT_EQ(host->V1With("cpu")->controllers, std::set<std::string>{"cpu"});
  EXPECT_EQ(host->V1With("systemd"), nullptr);  // name=systemd carries no controller
  EXPECT_EQ(host->V1With("blkio"), nullptr);
}

TEST(HostTest, CgroupNamespaceMountRootAndEscapedMountPoint) {
  FakeRoot fs;
  fs.Write("/proc/self/mountinfo",
           "35 31 0:32 /process_api /sys/fs/cgroup/my\\040memory rw - cgroup cgroup rw,memory\n"
           "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
           "41 31 0:38 /system.slice /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
  fs.Write("/proc/self/cgroup",
           "4:memory:/process_api/abc\n1:cpu,cpuacct:/x\n0::/system.slice/a.service\n");
  absl::StatusOr<Host> host = DetectHost(fs.root());
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_EQ(host->V1With("memory")->own_dir, fs.root() + "/sys/fs/cgroup/my memory/abc");
  EXPECT_EQ(host->V1With("cpuacct")->own_dir, fs.root() + "/sys/fs/cgroup/cpu,cpuacct/x");
  EXPECT_EQ(host->V1With("cpu")->controllers, (std::set<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ(host->v2->own_dir, fs.root() + "/sys/fs/cgroup/unified/a.service");
  EXPECT_FALSE(host->v2->own_is_root);
}

TEST(PlanTest, HybridHostUsesV1ForEveryLimitAndV2ForTheRest) {
  FakeRoot fs;
  fs.Write("/proc/self/mountinfo", kHybridMountinfo);
  fs.Write("/proc/self/cgroup", kHybridCgroup);
  fs.V2Dir("/sys/fs/cgroup/unified", "hugetlb", "", "1\n");
  absl::StatusOr<Host> host = DetectHost(fs.root());
  ASSERT_TRUE(host.ok()) << host.status();
  absl::StatusOr<Plan> plan = PlanLimits(*host);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->For(Resource::kMemory).backend, Backend::kV1);
  EXPECT_EQ(plan->For(Resource::kPids).backend, Backend::kV1);
  EXPECT_EQ(plan->For(Resource::kCpu).backend, Backend::kV1);
  EXPECT_TRUE(plan->v2_controllers.empty());
  EXPECT_FALSE(plan->v2_move_self);
  EXPECT_TRUE(plan->CheckEnforceable(AllLimits()).ok());
  const std::string r = fs.root();
  EXPECT_THAT(
      plan->Describe("7-9"),
      ElementsAre("clone, kill, BPF: cgroup v2 (" + r + "/sys/fs/cgroup/unified/shim-bpf/7-9)",
                  "memory: cgroup v1 (" + r + "/sys/fs/cgroup/memory/process_api/abc/shim-bpf/7-9)",
                  "pids: cgroup v1 (" + r + "/sys/fs/cgroup/pids/shim-bpf/7-9)",
                  "cpu: cgroup v1 (" + r + "/sys/fs/cgroup/cpu/shim-bpf/7-9)"));
}

constexpr char kV2Mountinfo[] = "25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";

TEST(PlanTest, ModernV2HostWithDelegatedControllersUsesV2) {
  FakeRoot fs;
  fs.Write("/proc/self/mountinfo", kV2Mountinfo);
  fs.Write("/proc/self/cgroup", "0::/\n");
  fs.V2Dir("/sys/fs/cgroup", "cpuset cpu io memory hugetlb pids", "cpu memory pids", "1\n2\n");
  absl::StatusOr<Host> host = DetectHost(fs.root());
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_TRUE(host->v1.empty());
  absl::StatusOr<Plan> plan = PlanLimits(*host);
  ASSERT_TRUE(plan.ok()) << plan.status();
  for (Resource r : kAllResources) EXPECT_EQ(plan->For(r).backend, Backend::kV2) << ResourceName(r);
  EXPECT_THAT(plan->v2_controllers, ElementsAre("memory", "pids", "cpu"));
  EXPECT_FALSE(plan->v2_move_self);
  EXPECT_TRUE(plan->CheckEnforceable(AllLimits()).ok());
  EXPECT_THAT(plan->Describe("1-2")[1], HasSubstr("memory: cgroup v2 ("));
}

TEST(PlanTest, ModernV2HostAloneInOwnCgroupMovesItselfIntoALeaf) {
  FakeRoot fs;
  fs.Write("/proc/self/mountinfo", kV2Mountinfo);
  fs.Write("/proc/self/cgroup", "0::/system.slice/run-u7.scope\n");
  fs.V2Dir("/sys/fs/cgroup/system.slice/run-u7.scope", "cpu memory pids", "",
           std::to_string(getpid()) + "\n");
  absl::StatusOr<Host> host = DetectHost(fs.root());
  ASSERT_TRUE(host.ok()) << host.status();
  absl::StatusOr<Plan> plan = PlanLimits(*host);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->For(Resource::kMemory).backend, Backend::kV2);
  EXPECT_TRUE(plan->v2_move_self);
  EXPECT_THAT(plan->v2_controllers, ElementsAre("memory", "pids", "cpu"));
  EXPECT_TRUE(plan->CheckEnforceable(AllLimits()).ok());
}

TEST(PlanTest, AfterMovingIntoItsLeafTheBaseIsTheOriginalCgroup) {
  FakeRoot fs;
  const std::string leaf =
      "/system.slice/run-u7.scope/shim-bpf/" + std::to_string(getpid()) + "-55.supervisor";
  fs.Write("/proc/self/mountinfo", kV2Mountinfo);
  fs.Write("/proc/self/cgroup", "0::" + leaf + "\n");
  fs.V2Dir("/sys/fs/cgroup/system.slice/run-u7.scope", "cpu memory pids", "cpu memory pids", "");
  fs.V2Dir("/sys/fs/cgroup" + leaf, "cpu memory pids", "", std::to_string(getpid()) + "\n");
  absl::StatusOr<Host> host = DetectHost(fs.root());
  ASSERT_TRUE(host.ok()) << host.status();
  absl::StatusOr<Plan> plan = PlanLimits(*host);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->v2_base, fs.root() + "/sys/fs/cgroup/system.slice/run-u7.scope");
  EXPECT_FALSE(plan->v2_move_self);
  EXPECT_EQ(plan->For(Resource::kPids).backend, Backend::kV2);
}

TEST(PlanTest, V2CgroupSharedWithOtherProcessesCannotDelegate) {
  FakeRoot fs;
  fs.Write("/proc/self/mountinfo", kV2Mountinfo);
  fs.Write("/proc/self/cgroup", "0::/user.slice/session-1.scope\n");
  fs.V2Dir("/sys/fs/cgroup/user.slice/session-1.scope", "cpu memory pids", "",
           "4242\n" + std::to_string(getpid()) + "\n");
  absl::StatusOr<Plan> plan = PlanLimits(*DetectHost(fs.root()));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->For(Resource::kMemory).backend, Backend::kNone);
  EXPECT_FALSE(plan->v2_move_self);
  absl::Status s = plan->CheckEnforceable(AllLimits());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("/entrypoints/worker/limits/memory: cannot be enforced"));
  EXPECT_THAT(s.message(), HasSubstr("other processes (4242)"));
  EXPECT_THAT(s.message(), HasSubstr("/entrypoints/worker/limits/pids"));
  // A spec without limits still runs there.
  spec::Limits none;
  none.timeout = absl::Seconds(3);
  EXPECT_TRUE(plan->CheckEnforceable(none).ok());
}

TEST(PlanTest, RootV2CgroupWithoutDelegationIsNotChanged) {
  FakeRoot fs;
  fs.Write("/proc/self/mountinfo", kV2Mountinfo);
  fs.Write("/proc/self/cgroup", "0::/\n");
  fs.V2Dir("/sys/fs/cgroup", "cpu memory pids", "pids", "1\n");
  absl::StatusOr<Plan> plan = PlanLimits(*DetectHost(fs.root()));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->For(Resource::kPids).backend, Backend::kV2);
  EXPECT_EQ(plan->For(Resource::kCpu).backend, Backend::kNone);
  spec::Limits cpu;
  cpu.cpu_percent = 50;
  cpu.pointer = "/entrypoints/a/limits";
  absl::Status s = plan->CheckEnforceable(cpu);
  EXPECT_THAT(s.message(), HasSubstr("/entrypoints/a/limits/cpu: cannot be enforced"));
  EXPECT_THAT(s.message(), HasSubstr("echo +cpu > "));
}

TEST(PlanTest, HybridHostMissingV1HierarchiesNamesEachLimit) {
  FakeRoot fs;
  fs.Write("/proc/self/mountinfo",
           "39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
           "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
  fs.Write("/proc/self/cgroup", "8:pids:/\n0::/\n");
  fs.V2Dir("/sys/fs/cgroup/unified", "hugetlb", "", "1\n");
  absl::StatusOr<Plan> plan = PlanLimits(*DetectHost(fs.root()));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->For(Resource::kPids).backend, Backend::kV1);
  absl::Status s = plan->CheckEnforceable(AllLimits());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("/entrypoints/worker/limits/memory: cannot be enforced on "
                                     "this host: no memory controller"));
  EXPECT_THAT(s.message(), HasSubstr("/entrypoints/worker/limits/cpu: cannot be enforced"));
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("limits/pids")));
  EXPECT_THAT(plan->Describe()[1], HasSubstr("memory: not available (no memory controller"));
  spec::Limits pids_only;
  pids_only.pids = 4;
  EXPECT_TRUE(plan->CheckEnforceable(pids_only).ok());
}

TEST(PlanTest, NoCgroup2MountIsAClearError) {
  FakeRoot fs;
  fs.Write("/proc/self/mountinfo",
           "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
  fs.Write("/proc/self/cgroup", "4:memory:/\n");
  absl::StatusOr<Plan> plan = PlanLimits(*DetectHost(fs.root()));
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(plan.status().message(), HasSubstr("no cgroup2 filesystem"));
}

// RunCgroups on a fake tree (plain directories): a v1 hierarchy it cannot create in makes only
// its resources unavailable, with the reason, instead of failing runs that do not limit them.
TEST(RunCgroupsFakeTest, UnusableV1HierarchyMakesItsLimitUnenforceableNotTheRunFail) {
  FakeRoot fs;
  fs.Write("/proc/self/mountinfo", kHybridMountinfo);
  fs.Write("/proc/self/cgroup", kHybridCgroup);
  fs.V2Dir("/sys/fs/cgroup/unified", "hugetlb", "", "1\n");
  fs.Mkdir("/sys/fs/cgroup/pids");
  fs.Mkdir("/sys/fs/cgroup/cpu");
  // /sys/fs/cgroup/memory/process_api/abc is missing: nothing can be created there.
  RunCgroupsOptions options;
  options.root = fs.root();
  options.run_id = "1-2";
  {
    absl::StatusOr<RunCgroups> run = RunCgroups::Create(options);
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(run->plan().For(Resource::kMemory).backend, Backend::kNone);
    EXPECT_EQ(run->plan().For(Resource::kPids).backend, Backend::kV1);
    EXPECT_THAT(run->Describe()[1],
                HasSubstr("memory: not available (the cgroup v1 memory hierarchy at " + fs.root() +
                          "/sys/fs/cgroup/memory/process_api/abc is not usable: create cgroup"));
    absl::Status s = run->CheckEnforceable(AllLimits());
    EXPECT_THAT(s.message(), HasSubstr("/entrypoints/worker/limits/memory: cannot be enforced"));
    EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("limits/pids")));
    EXPECT_THAT(run->run_dirs(), ElementsAre(fs.root() + "/sys/fs/cgroup/unified/shim-bpf/1-2",
                                             fs.root() + "/sys/fs/cgroup/pids/shim-bpf/1-2",
                                             fs.root() + "/sys/fs/cgroup/cpu/shim-bpf/1-2"));
    // An instance without limits joins only v2 (memory is not tracked where it is unavailable).
    absl::StatusOr<InstanceCgroup> inst = run->CreateInstance("ep", "1", spec::Limits{});
    ASSERT_TRUE(inst.ok()) << inst.status();
    EXPECT_THAT(inst->dirs(), ElementsAre(fs.root() + "/sys/fs/cgroup/unified/shim-bpf/1-2/ep/1"));
    EXPECT_FALSE(inst->PeakMemoryBytes().has_value());
    spec::Limits memory;
    memory.memory_bytes = 1 << 20;
    memory.pointer = "/entrypoints/ep/limits";
    EXPECT_EQ(run->CreateInstance("ep", "2", memory).status().code(),
              absl::StatusCode::kFailedPrecondition);
    // A half-made instance is removed when a step fails (here: plain dirs have no cgroup.procs
    // to open in the v1 pids dir).
    spec::Limits pids;
    pids.pids = 4;
    pids.pointer = "/entrypoints/ep/limits";
    absl::Status refused = run->CreateInstance("ep", "3", pids).status();
    EXPECT_THAT(refused.message(), HasSubstr("/sys/fs/cgroup/pids/shim-bpf/1-2/ep/3/cgroup.procs"));
    EXPECT_FALSE(std::filesystem::exists(fs.root() + "/sys/fs/cgroup/unified/shim-bpf/1-2/ep/3"));
    EXPECT_FALSE(std::filesystem::exists(fs.root() + "/sys/fs/cgroup/pids/shim-bpf/1-2/ep/3"));
  }
  EXPECT_FALSE(std::filesystem::exists(fs.root() + "/sys/fs/cgroup/unified/shim-bpf"));
  EXPECT_FALSE(std::filesystem::exists(fs.root() + "/sys/fs/cgroup/pids/shim-bpf"));
}

TEST(RunIdTest, StaleNamesAreThoseOfGoneOrDifferentProcesses) {
  FakeRoot fs;
  // comm may contain ") " and spaces; the start time is field 22.
  fs.Write("/proc/123/stat",
           "123 (evil) name) S 1 123 123 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 4567 1000 10\n");
  absl::StatusOr<std::string> id = RunIdFor(123, fs.root());
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "123-4567");
  EXPECT_FALSE(IsStaleRunName("123-4567", fs.root()));
  EXPECT_FALSE(IsStaleRunName("123-4567.supervisor", fs.root()));
  EXPECT_TRUE(IsStaleRunName("123-4568", fs.root()));  // pid reused by another process
  EXPECT_TRUE(IsStaleRunName("124-4567", fs.root()));  // pid gone
  EXPECT_TRUE(IsStaleRunName("124-1.supervisor", fs.root()));
  EXPECT_FALSE(IsStaleRunName("worker", fs.root()));  // not a run dir: never touched
  EXPECT_FALSE(IsStaleRunName("12-x", fs.root()));
  EXPECT_FALSE(IsStaleRunName("-1-2", fs.root()));
}

TEST(RunIdTest, OwnRunIdIsLive) {
  absl::StatusOr<std::string> id = RunIdFor(getpid());
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->rfind(std::to_string(getpid()) + "-", 0), 0u);
  EXPECT_FALSE(IsStaleRunName(*id));
}

}  // namespace
}  // namespace shim::cgroup
