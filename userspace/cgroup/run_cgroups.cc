#include "cgroup/run_cgroups.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cgroup/cgroup2.h"
#include "cgroup/members.h"
#include "common/annotate.h"
#include "common/errno_status.h"
#include "common/file_util.h"
#include "common/privilege.h"
#include "common/status_macros.h"
#include "common/unique_fd.h"

namespace shim::cgroup {

namespace {

constexpr char kShimDir[] = "shim-bpf";
constexpr char kSupervisorSuffix[] = ".supervisor";
constexpr uint64_t kCpuPeriodUs = 100000;
constexpr uint32_t kPidMaxLimit = 4 * 1024 * 1024;  // PID_MAX_LIMIT on 64-bit kernels

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// mkdir that tolerates an existing directory.
absl::Status EnsureDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return absl::OkStatus();
  return ErrnoStatus(absl::StrCat("create cgroup ", path));
}

absl::StatusOr<UniqueFd> OpenDir(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return ErrnoStatus(absl::StrCat("open cgroup ", path));
  return fd;
}

absl::Status WriteControl(const std::string& dir, const std::string& file,
                          const std::string& value) {
  absl::Status s = WriteStringToFile(absl::StrCat(dir, "/", file), value);
  if (!s.ok()) {
    return Annotate(s, absl::StrCat("set ", file, "=", value));
  }
  return s;
}

// Enables `controllers` for the children of `dir` (cgroup v2 cgroup.subtree_control).
absl::Status EnableControllers(const std::string& dir,
                               const std::vector<std::string>& controllers) {
  if (controllers.empty()) return absl::OkStatus();
  std::vector<std::string> plus;
  plus.reserve(controllers.size());
  for (const std::string& c : controllers) plus.push_back("+" + c);
  return WriteControl(dir, "cgroup.subtree_control", absl::StrJoin(plus, " "));
}

// Creates <base>/shim-bpf, tolerating a concurrent run that removes it when it became empty.
absl::Status CreateUnderShimDir(const std::string& base, const std::string& name,
                                const std::vector<std::string>& enable) {
  const std::string shim = absl::StrCat(base, "/", kShimDir);
  const std::string path = absl::StrCat(shim, "/", name);
  for (int attempt = 0;; ++attempt) {
    RETURN_IF_ERROR(EnsureDir(shim));
    RETURN_IF_ERROR(EnableControllers(shim, enable));
    if (mkdir(path.c_str(), 0755) == 0) return absl::OkStatus();
    if (errno != ENOENT || attempt == 10) {
      return ErrnoStatus(absl::StrCat("create cgroup ", path));
    }
  }
}

// Removes dead supervisors' run dirs from <base>/shim-bpf.
void RemoveStaleRuns(const std::string& base, const std::string& root) {
  const std::string shim = absl::StrCat(base, "/", kShimDir);
  DIR* d = opendir(shim.c_str());
  if (d == nullptr) return;
  std::vector<std::string> stale;
  while (dirent* entry = readdir(d)) {
    if (entry->d_type == DT_DIR && IsStaleRunName(entry->d_name, root)) {
      stale.push_back(absl::StrCat(shim, "/", entry->d_name));
    }
  }
  closedir(d);
  for (const std::string& dir : stale) (void)RemoveTree(dir);
}

// An instance leaf whose processes are gone (the usual case: the supervisor reaped them) is
// removed by one rmdir; only a busy one takes the kill-and-wait path.
absl::Status RemoveLeaf(const std::string& dir) {
  if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return absl::OkStatus();
  return RemoveTree(dir);
}

absl::StatusOr<uint64_t> ReadKeyed(const std::string& path, absl::string_view key) {
  ASSIGN_OR_RETURN(std::string content, ReadFileToString(path));
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    std::vector<absl::string_view> kv = absl::StrSplit(line, ' ');
    uint64_t v = 0;
    if (kv.size() == 2 && kv[0] == key && absl::SimpleAtoi(kv[1], &v)) return v;
  }
  return absl::NotFoundError(absl::StrCat(path, " has no ", key));
}

absl::Status CheckName(const std::string& what, const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\n') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid ", what, " name for a cgroup: \"", name, "\""));
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Run ids and staleness

absl::StatusOr<std::string> RunIdFor(pid_t pid, const std::string& root) {
  std::string path = absl::StrCat("/proc/", pid, "/stat");
  if (!root.empty() && root != "/") path = absl::StrCat(root, path);
  ASSIGN_OR_RETURN(std::string stat, ReadFileToString(path));
  // "pid (comm) state ppid ..."; comm may hold spaces and ')', so split after the last ')'.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return absl::InternalError(absl::StrCat("unparsable ", path));
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(paren + 2), ' ');
  // fields[0] is field 3 (state); starttime is field 22.
  if (fields.size() < 20) return absl::InternalError(absl::StrCat("short ", path));
  uint64_t start = 0;
  if (!absl::SimpleAtoi(fields[19], &start)) {
    return absl::InternalError(absl::StrCat("bad start time in ", path));
  }
  return absl::StrCat(pid, "-", start);
}

bool IsStaleRunName(const std::string& name, const std::string& root) {
  absl::string_view id = name;
  if (absl::EndsWith(id, kSupervisorSuffix)) id.remove_suffix(sizeof(kSupervisorSuffix) - 1);
  std::vector<absl::string_view> parts = absl::StrSplit(id, '-');
  int pid = 0;
  uint64_t start = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &pid) || pid <= 0 ||
      !absl::SimpleAtoi(parts[1], &start)) {
    return false;  // not a run dir of ours
  }
  absl::StatusOr<std::string> live = RunIdFor(pid, root);
  if (!live.ok()) return absl::IsNotFound(live.status());  // other errors: keep, to be safe
  return *live != id;
}

// ---------------------------------------------------------------------------------------------
// InstanceCgroup

struct InstanceV1 {
  std::string dir;
  UniqueFd procs_fd;
  bool memory = false;
};

struct InstanceCgroup::State {
  std::string name;
  std::string v2_path;
  UniqueFd v2_fd;
  uint64_t v2_id = 0;
  bool v2_memory = false;  // the v2 memory controller is enabled for this instance
  std::vector<InstanceV1> v1;
  bool removed = false;
  // Cleared when the run's tree is removed: the instance's dirs went with it, and the same paths
  // may belong to a later run of this process (same run id) by the time this instance dies.
  std::shared_ptr<std::atomic<bool>> run_alive;

  ~State() { (void)Remove(); }

  bool Gone() const { return removed || (run_alive && !run_alive->load()); }

  absl::Status Remove() {
    if (Gone()) {
      removed = true;
      return absl::OkStatus();
    }
    removed = true;
    v2_fd.reset();
    absl::Status status = RemoveLeaf(v2_path);
    for (InstanceV1& h : v1) {
      h.procs_fd.reset();
      absl::Status s = RemoveLeaf(h.dir);
      if (status.ok()) status = s;
    }
    return status;
  }
};

InstanceCgroup::InstanceCgroup(std::unique_ptr<State> state) : state_(std::move(state)) {}
InstanceCgroup::InstanceCgroup(InstanceCgroup&&) noexcept = default;
InstanceCgroup& InstanceCgroup::operator=(InstanceCgroup&&) noexcept = default;
InstanceCgroup::~InstanceCgroup() = default;

int InstanceCgroup::v2_dir_fd() const { return state_->v2_fd.get(); }

std::vector<int> InstanceCgroup::v1_procs_fds() const {
  std::vector<int> fds;
  for (const InstanceV1& h : state_->v1) fds.push_back(h.procs_fd.get());
  return fds;
}

uint64_t InstanceCgroup::v2_id() const { return state_->v2_id; }
const std::string& InstanceCgroup::v2_path() const { return state_->v2_path; }
const std::string& InstanceCgroup::name() const { return state_->name; }

std::vector<std::string> InstanceCgroup::dirs() const {
  std::vector<std::string> out{state_->v2_path};
  for (const InstanceV1& h : state_->v1) out.push_back(h.dir);
  return out;
}

std::optional<uint64_t> InstanceCgroup::PeakMemoryBytes() const {
  absl::StatusOr<std::string> content;
  if (state_->v2_memory) {
    content = ReadFileToString(state_->v2_path + "/memory.peak");
  } else {
    for (const InstanceV1& h : state_->v1) {
      if (h.memory) content = ReadFileToString(h.dir + "/memory.max_usage_in_bytes");
    }
  }
  uint64_t v = 0;
  if (!content.ok() || !absl::SimpleAtoi(absl::StripAsciiWhitespace(*content), &v)) {
    return std::nullopt;
  }
  return v;
}

bool InstanceCgroup::OomKilled() const {
  absl::StatusOr<uint64_t> kills = absl::NotFoundError("no memory controller");
  if (state_->v2_memory) {
    kills = ReadKeyed(state_->v2_path + "/memory.events", "oom_kill");
  } else {
    for (const InstanceV1& h : state_->v1) {
      if (h.memory) kills = ReadKeyed(h.dir + "/memory.oom_control", "oom_kill");
    }
  }
  return kills.ok() && *kills > 0;
}

absl::Status InstanceCgroup::Kill() {
  if (state_->Gone()) return absl::OkStatus();
  // v2 first: cgroup.kill reaches every process of the instance, whatever v1 dirs it joined.
  RETURN_IF_ERROR(KillTree(state_->v2_path));
  for (const InstanceV1& h : state_->v1) RETURN_IF_ERROR(KillTree(h.dir));
  return absl::OkStatus();
}

absl::Status InstanceCgroup::Remove() { return state_->Remove(); }

// ---------------------------------------------------------------------------------------------
// RunCgroups

struct RunV1 {
  std::string base;  // own dir in the hierarchy
  std::string run_dir;
  std::set<Resource> resources;
};

struct RunCgroups::State {
  RunCgroupsOptions options;
  Host host;
  Plan plan;
  std::string run_id;
  std::string v2_run;
  UniqueFd v2_fd;
  uint64_t v2_id = 0;
  std::vector<RunV1> v1;
  std::mutex mu;
  std::set<std::string> entrypoints;  // created in every hierarchy
  struct Spares {
    spec::Limits limits;  // what the spares were made with
    uint64_t next = 0;    // the counter naming NextInstance/Prepare instances
    std::deque<InstanceCgroup> ready;
  };
  std::map<std::string, Spares> spares;  // by entrypoint, guarded by mu
  bool removed = false;
  std::shared_ptr<std::atomic<bool>> alive = std::make_shared<std::atomic<bool>>(true);
  std::vector<std::string> created;  // run dirs created so far, for cleanup
  // Optional memory interface files, looked up once in the run dir (instances inherit them).
  bool has_swap_max = false;   // v2 memory.swap.max (swap accounting compiled in)
  bool has_oom_group = false;  // v2 memory.oom.group
  bool has_memsw = false;      // v1 memory.memsw.limit_in_bytes (swap accounting on)

  ~State() { (void)Remove(); }

  absl::Status Remove() {
    if (removed) return absl::OkStatus();
    removed = true;
    alive->store(false);
    v2_fd.reset();
    absl::Status status;
    // The v2 run dir first: cgroup.kill there reaches every process of the run.
    for (const std::string& dir : created) {
      absl::Status s = RemoveTree(dir);
      if (status.ok()) status = s;
    }
    // Remove <base>/shim-bpf when it is empty (a concurrent run's dir keeps it; EBUSY is fine),
    // except where this process moved itself into it. A hierarchy's root is mode 0555, so this
    // takes CAP_DAC_OVERRIDE, which the supervisor keeps dormant for exactly this.
    ScopedCapability dac_override(CAP_DAC_OVERRIDE);
    if (!plan.v2_move_self) (void)rmdir(absl::StrCat(plan.v2_base, "/", kShimDir).c_str());
    for (const RunV1& h : v1) (void)rmdir(absl::StrCat(h.base, "/", kShimDir).c_str());
    return status;
  }

  const RunV1* V1For(Resource r) const {
    for (const RunV1& h : v1) {
      if (h.resources.count(r) != 0) return &h;
    }
    return nullptr;
  }
};

RunCgroups::RunCgroups(std::unique_ptr<State> state) : state_(std::move(state)) {}
RunCgroups::RunCgroups(RunCgroups&&) noexcept = default;
RunCgroups& RunCgroups::operator=(RunCgroups&&) noexcept = default;
RunCgroups::~RunCgroups() = default;

absl::StatusOr<RunCgroups> RunCgroups::Create(const RunCgroupsOptions& options) {
  auto state = std::make_unique<State>();
  state->options = options;
  if (options.run_id) {
    RETURN_IF_ERROR(CheckName("run id", *options.run_id));
    state->run_id = *options.run_id;
  } else {
    ASSIGN_OR_RETURN(state->run_id, RunIdFor(getpid(), options.root));
  }
  ASSIGN_OR_RETURN(state->host, DetectHost(options.root));
  if (options.plan) {
    state->plan = *options.plan;
  } else {
    ASSIGN_OR_RETURN(state->plan, PlanLimits(state->host));
  }
  const Plan& plan = state->plan;

  // One v1 run dir per hierarchy that carries a planned resource.
  for (Resource r : kAllResources) {
    const ResourcePlan& p = plan.For(r);
    if (p.backend != Backend::kV1) continue;
    RunV1* found = nullptr;
    for (RunV1& h : state->v1) {
      if (h.base == p.base_dir) found = &h;
    }
    if (found == nullptr) {
      state->v1.push_back(
          RunV1{p.base_dir, absl::StrCat(p.base_dir, "/", kShimDir, "/", state->run_id), {}});
      found = &state->v1.back();
    }
    found->resources.insert(r);
  }

  if (options.remove_stale) {
    RemoveStaleRuns(plan.v2_base, options.root);
    for (const RunV1& h : state->v1) RemoveStaleRuns(h.base, options.root);
  }

  if (plan.v2_move_self) {
    // cgroup v2 forbids processes in a non-root cgroup that enables controllers for its
    // children: move this (single) process into a leaf first, then delegate.
    const std::string leaf = absl::StrCat(state->run_id, kSupervisorSuffix);
    RETURN_IF_ERROR(CreateUnderShimDir(plan.v2_base, leaf, {}));
    const std::string leaf_dir = absl::StrCat(plan.v2_base, "/", kShimDir, "/", leaf);
    absl::Status moved = WriteControl(leaf_dir, "cgroup.procs", std::to_string(getpid()));
    if (!moved.ok()) {
      (void)rmdir(leaf_dir.c_str());
      return moved;
    }
    RETURN_IF_ERROR(EnableControllers(plan.v2_base, plan.v2_controllers));
  }

  state->v2_run = absl::StrCat(plan.v2_base, "/", kShimDir, "/", state->run_id);
  RETURN_IF_ERROR(CreateUnderShimDir(plan.v2_base, state->run_id, plan.v2_controllers));
  state->created.push_back(state->v2_run);
  RETURN_IF_ERROR(EnableControllers(state->v2_run, plan.v2_controllers));
  ASSIGN_OR_RETURN(state->v2_fd, OpenDir(state->v2_run));
  ASSIGN_OR_RETURN(state->v2_id, CgroupIdOf(state->v2_run));
  // A v1 hierarchy we cannot create in (read-only mount, no permission) makes its resources
  // unavailable instead of failing the run: a spec that limits them is refused by
  // CheckEnforceable with this reason, one that does not still runs.
  std::vector<RunV1> usable;
  for (RunV1& h : state->v1) {
    absl::Status created = CreateUnderShimDir(h.base, state->run_id, {});
    if (created.ok()) {
      state->created.push_back(h.run_dir);
      usable.push_back(std::move(h));
      continue;
    }
    for (ResourcePlan& p : state->plan.resources) {
      if (h.resources.count(p.resource) == 0) continue;
      p.backend = Backend::kNone;
      p.unavailable_reason =
          absl::StrCat("the cgroup v1 ", ResourceName(p.resource), " hierarchy at ", h.base,
                       " is not usable: ", created.message());
      p.base_dir.clear();
    }
  }
  state->v1 = std::move(usable);
  if (plan.For(Resource::kMemory).backend == Backend::kV2) {
    state->has_swap_max = Exists(state->v2_run + "/memory.swap.max");
    state->has_oom_group = Exists(state->v2_run + "/memory.oom.group");
  } else if (const RunV1* h = state->V1For(Resource::kMemory)) {
    state->has_memsw = Exists(h->run_dir + "/memory.memsw.limit_in_bytes");
  }
  return RunCgroups(std::move(state));
}

std::vector<std::string> RunCgroups::Describe() const {
  return state_->plan.Describe(state_->run_id);
}

absl::Status RunCgroups::CheckEnforceable(const spec::Limits& limits) const {
  return state_->plan.CheckEnforceable(limits);
}

absl::StatusOr<InstanceCgroup> RunCgroups::CreateInstance(const std::string& entrypoint,
                                                          const std::string& instance,
                                                          const spec::Limits& limits) {
  State& s = *state_;
  if (s.removed) return absl::FailedPreconditionError("the run's cgroups were removed");
  RETURN_IF_ERROR(CheckName("entrypoint", entrypoint));
  RETURN_IF_ERROR(CheckName("instance", instance));
  RETURN_IF_ERROR(s.plan.CheckEnforceable(limits));
  if (limits.cpu_percent && *limits.cpu_percent == 0) {
    return absl::InvalidArgumentError(absl::StrCat(limits.pointer, "/cpu: 0% cannot be enforced"));
  }

  // The v1 hierarchies this instance joins: those carrying a requested limit, and memory unless
  // told otherwise (its peak usage and OOM kills are reported for every instance).
  const bool v1_memory = s.plan.For(Resource::kMemory).backend == Backend::kV1;
  std::vector<const RunV1*> joined;
  for (const RunV1& h : s.v1) {
    const bool wanted = (h.resources.count(Resource::kMemory) != 0 &&
                         (limits.memory_bytes || s.options.track_memory)) ||
                        (limits.pids && h.resources.count(Resource::kPids) != 0) ||
                        (limits.cpu_percent && h.resources.count(Resource::kCpu) != 0);
    if (wanted) joined.push_back(&h);
  }

  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.entrypoints.count(entrypoint) == 0) {
      const std::string v2_ep = absl::StrCat(s.v2_run, "/", entrypoint);
      RETURN_IF_ERROR(EnsureDir(v2_ep));
      RETURN_IF_ERROR(EnableControllers(v2_ep, s.plan.v2_controllers));
      // Every v1 hierarchy, so later instances with other limits find their parent.
      for (const RunV1& h : s.v1)
        RETURN_IF_ERROR(EnsureDir(absl::StrCat(h.run_dir, "/", entrypoint)));
      s.entrypoints.insert(entrypoint);
    }
  }

  auto st = std::make_unique<InstanceCgroup::State>();
  st->name = instance;
  st->run_alive = s.alive;
  st->v2_path = absl::StrCat(s.v2_run, "/", entrypoint, "/", instance);
  if (mkdir(st->v2_path.c_str(), 0755) != 0) {
    st->removed = true;  // not ours: never remove an existing instance dir
    return ErrnoStatus(absl::StrCat("create cgroup ", st->v2_path));
  }
  st->v2_memory = s.plan.For(Resource::kMemory).backend == Backend::kV2;
  for (const RunV1* h : joined) {
    InstanceV1 v1;
    v1.dir = absl::StrCat(h->run_dir, "/", entrypoint, "/", instance);
    v1.memory = v1_memory && h->resources.count(Resource::kMemory) != 0;
    if (mkdir(v1.dir.c_str(), 0755) != 0)
      return ErrnoStatus(absl::StrCat("create cgroup ", v1.dir));
    st->v1.push_back(std::move(v1));
  }
  ASSIGN_OR_RETURN(st->v2_fd, OpenDir(st->v2_path));
  struct stat v2_stat {};
  // The cgroup id is the kernfs inode number (see CgroupIdOf); fstat spares a path walk.
  if (fstat(st->v2_fd.get(), &v2_stat) != 0) return ErrnoStatus("stat " + st->v2_path);
  st->v2_id = static_cast<uint64_t>(v2_stat.st_ino);
  for (InstanceV1& h : st->v1) {
    const std::string procs = h.dir + "/cgroup.procs";
    h.procs_fd.reset(open(procs.c_str(), O_WRONLY | O_CLOEXEC));
    if (!h.procs_fd) return ErrnoStatus(absl::StrCat("open ", procs));
  }

  // Limits, on the instance (leaf) directory.
  auto dir_for = [&](Resource r) -> std::string {
    if (s.plan.For(r).backend == Backend::kV2) return st->v2_path;
    const RunV1* h = s.V1For(r);
    return absl::StrCat(h->run_dir, "/", entrypoint, "/", instance);
  };
  auto v2 = [&](Resource r) { return s.plan.For(r).backend == Backend::kV2; };
  // Errors name the limit, e.g. "/entrypoints/a/limits/pids: set pids.max=...: ...".
  auto named = [&](Resource r, absl::Status status) {
    if (status.ok()) return status;
    return Annotate(status, absl::StrCat(limits.pointer, "/", ResourceName(r)));
  };
  auto apply_memory = [&]() -> absl::Status {
    const std::string dir = dir_for(Resource::kMemory);
    const std::string bytes = std::to_string(*limits.memory_bytes);
    if (v2(Resource::kMemory)) {
      RETURN_IF_ERROR(WriteControl(dir, "memory.max", bytes));
      // The limit is on memory, not memory plus swap: no swapping past it.
      if (s.has_swap_max) RETURN_IF_ERROR(WriteControl(dir, "memory.swap.max", "0"));
      // An OOM kill takes the whole instance, never leaving it half alive.
      if (s.has_oom_group) RETURN_IF_ERROR(WriteControl(dir, "memory.oom.group", "1"));
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(WriteControl(dir, "memory.limit_in_bytes", bytes));
    // With swap accounting, bound memory+swap too (it must be >= the memory limit, set after).
    if (s.has_memsw) RETURN_IF_ERROR(WriteControl(dir, "memory.memsw.limit_in_bytes", bytes));
    return absl::OkStatus();
  };
  auto apply_pids = [&]() -> absl::Status {
    // The kernel refuses pids.max above PID_MAX_LIMIT; no instance can have more tasks anyway.
    const std::string value =
        *limits.pids > kPidMaxLimit ? std::string("max") : std::to_string(*limits.pids);
    return WriteControl(dir_for(Resource::kPids), "pids.max", value);
  };
  auto apply_cpu = [&]() -> absl::Status {
    const std::string dir = dir_for(Resource::kCpu);
    const uint64_t quota = uint64_t{*limits.cpu_percent} * kCpuPeriodUs / 100;
    if (v2(Resource::kCpu)) {
      return WriteControl(dir, "cpu.max", absl::StrCat(quota, " ", kCpuPeriodUs));
    }
    RETURN_IF_ERROR(WriteControl(dir, "cpu.cfs_period_us", std::to_string(kCpuPeriodUs)));
    return WriteControl(dir, "cpu.cfs_quota_us", std::to_string(quota));
  };
  if (limits.memory_bytes) RETURN_IF_ERROR(named(Resource::kMemory, apply_memory()));
  if (limits.pids) RETURN_IF_ERROR(named(Resource::kPids, apply_pids()));
  if (limits.cpu_percent) RETURN_IF_ERROR(named(Resource::kCpu, apply_cpu()));
  return InstanceCgroup(std::move(st));
}

namespace {

bool SameLimits(const spec::Limits& a, const spec::Limits& b) {
  return a.memory_bytes == b.memory_bytes && a.pids == b.pids && a.cpu_percent == b.cpu_percent;
}

}  // namespace

absl::Status RunCgroups::Prepare(const std::string& entrypoint, const spec::Limits& limits,
                                 size_t count) {
  State& s = *state_;
  while (true) {
    std::string name;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      State::Spares& spares = s.spares[entrypoint];
      if (!SameLimits(spares.limits, limits)) {
        spares.ready.clear();  // made for other limits: removed now
        spares.limits = limits;
      }
      if (spares.ready.size() >= count) return absl::OkStatus();
      name = std::to_string(spares.next++);
    }
    absl::StatusOr<InstanceCgroup> inst = CreateInstance(entrypoint, name, limits);
    if (!inst.ok()) {
      if (absl::IsAlreadyExists(inst.status())) continue;  // a caller-chosen name: skip it
      return inst.status();
    }
    std::lock_guard<std::mutex> lock(s.mu);
    State::Spares& spares = s.spares[entrypoint];
    if (SameLimits(spares.limits, limits)) spares.ready.push_back(std::move(*inst));
  }
}

absl::StatusOr<InstanceCgroup> RunCgroups::NextInstance(const std::string& entrypoint,
                                                        const spec::Limits& limits) {
  State& s = *state_;
  while (true) {
    std::string name;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      State::Spares& spares = s.spares[entrypoint];
      if (SameLimits(spares.limits, limits) && !spares.ready.empty()) {
        // Oldest first, so instance names follow the order of the spawns.
        InstanceCgroup inst = std::move(spares.ready.front());
        spares.ready.pop_front();
        return inst;
      }
      name = std::to_string(spares.next++);
    }
    absl::StatusOr<InstanceCgroup> inst = CreateInstance(entrypoint, name, limits);
    if (inst.ok() || !absl::IsAlreadyExists(inst.status())) return inst;
  }
}

const std::string& RunCgroups::run_id() const { return state_->run_id; }
const Plan& RunCgroups::plan() const { return state_->plan; }
uint64_t RunCgroups::v2_id() const { return state_->v2_id; }
int RunCgroups::v2_fd() const { return state_->v2_fd.get(); }
const std::string& RunCgroups::v2_path() const { return state_->v2_run; }

std::vector<std::string> RunCgroups::run_dirs() const {
  std::vector<std::string> out{state_->v2_run};
  for (const RunV1& h : state_->v1) out.push_back(h.run_dir);
  return out;
}

absl::Status RunCgroups::Remove() { return state_->Remove(); }

}  // namespace shim::cgroup
