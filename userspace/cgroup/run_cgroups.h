// Per-run and per-instance cgroups with resource limits (design.md section 4).
//
//   v2:               <own v2 cgroup>/shim-bpf/<run-id>/<entrypoint>/<instance>
//   v1 (hybrid host): <own cgroup in the memory|pids|cpu
//   hierarchy>/shim-bpf/<run-id>/<entrypoint>/<instance>
//
// The v2 tree always exists: it carries CLONE_INTO_CGROUP, cgroup.kill and the BPF attachments.
// Limits go to v2 controllers where the host offers them, else to v1 hierarchies (Plan decides).
// Instances are leaves; limits are set on the instance directory. Run ids are
// "<supervisor pid>-<its start time in clock ticks>", so a later run can tell a run dir whose
// supervisor died (even by kill -9) and remove it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cgroup/host.h"
#include "cgroup/limits_plan.h"
#include "spec/model.h"

namespace shim::cgroup {

class RunCgroups;

// One instance's cgroups. RAII: destruction kills its members and removes its directories. Must
// not outlive the RunCgroups that created it (it is safe if it does: its dirs are then gone).
class InstanceCgroup {
 public:
  InstanceCgroup(InstanceCgroup&&) noexcept;
  InstanceCgroup& operator=(InstanceCgroup&&) noexcept;
  InstanceCgroup(const InstanceCgroup&) = delete;
  InstanceCgroup& operator=(const InstanceCgroup&) = delete;
  ~InstanceCgroup();

  // O_DIRECTORY fd of the v2 instance dir, for clone3(CLONE_INTO_CGROUP).
  int v2_dir_fd() const;
  // O_WRONLY|O_CLOEXEC fds of each v1 instance dir's cgroup.procs; the child writes "0" into
  // each before exec (while still privileged, before entering a new cgroup namespace).
  std::vector<int> v1_procs_fds() const;
  uint64_t v2_id() const;
  const std::string& v2_path() const;
  // The instance name (the last path component).
  const std::string& name() const;
  // Every directory of this instance (v2 first), for messages and tests.
  std::vector<std::string> dirs() const;

  // memory.peak (v2, kernel 5.19+) or memory.max_usage_in_bytes (v1); nullopt when no memory
  // controller is attached. Read it after the instance exited and before destruction.
  std::optional<uint64_t> PeakMemoryBytes() const;
  // True when the kernel's OOM killer killed a process of this instance (memory.events oom_kill
  // (v2) or memory.oom_control oom_kill (v1)).
  bool OomKilled() const;
  // SIGKILLs every process of the instance and waits (bounded) until all its cgroups are empty:
  // cgroup.kill on v2, then any v1 straggler by pidfd until the v1 dirs are empty.
  absl::Status Kill();
  // Kill() and remove the directories now; idempotent.
  absl::Status Remove();

 private:
  friend class RunCgroups;
  struct State;
  explicit InstanceCgroup(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

struct RunCgroupsOptions {
  // Filesystem root beneath which /proc and the cgroup mounts are read (tests use a fake tree).
  std::string root = "/";
  // Default: "<getpid()>-<start time>". Tests may override; it must stay unique per live run.
  std::optional<std::string> run_id;
  // Remove run dirs of dead supervisors found beside ours.
  bool remove_stale = true;
  // On hosts where memory is a v1 controller, put every instance in a v1 memory cgroup even
  // without a memory limit, so PeakMemoryBytes/OomKilled report for it (costs ~40 us of
  // mkdir+rmdir per instance here). With v2 memory the v2 dir always counts.
  bool track_memory = true;
  // Use this plan instead of PlanLimits(DetectHost(root)) (tests exercise the v2 move-into-a-leaf
  // path with it on hosts whose v2 hierarchy has no memory/pids/cpu controllers).
  std::optional<Plan> plan;
};

class RunCgroups {
 public:
  // Detects the backends, removes stale run subtrees (a run dir whose supervisor pid is dead or
  // whose start time differs), and creates this run's subtree in v2 and every v1 hierarchy the
  // plan uses.
  static absl::StatusOr<RunCgroups> Create(const RunCgroupsOptions& options = {});

  RunCgroups(RunCgroups&&) noexcept;
  RunCgroups& operator=(RunCgroups&&) noexcept;
  RunCgroups(const RunCgroups&) = delete;
  RunCgroups& operator=(const RunCgroups&) = delete;
  // cgroup.kill (v2) and kill v1 members, then rmdir everything, bottom up.
  ~RunCgroups();

  // Which backend enforces what, for a start-up message.
  std::vector<std::string> Describe() const;
  // Checks up front that every requested limit can be enforced; the error names the limit's
  // JSON pointer and the reason.
  absl::Status CheckEnforceable(const spec::Limits& limits) const;
  // Creates <run>/<entrypoint> (once) and <run>/<entrypoint>/<instance> in every hierarchy used,
  // and applies `limits` (memory, pids, cpu_percent) to the instance. Thread-safe.
  absl::StatusOr<InstanceCgroup> CreateInstance(const std::string& entrypoint,
                                                const std::string& instance,
                                                const spec::Limits& limits);

  // The warm path: instances named by a per-entrypoint counter ("0", "1", ...), created ahead of
  // time so that taking one costs no mkdir. Prepare tops the entrypoint's spares up to `count`
  // (call it when idle, e.g. right after a spawn); NextInstance hands out a spare made with equal
  // limits, or creates one on the spot. Don't mix with CreateInstance names that are numbers.
  // Unused spares are removed with the run. Thread-safe.
  absl::Status Prepare(const std::string& entrypoint, const spec::Limits& limits, size_t count);
  absl::StatusOr<InstanceCgroup> NextInstance(const std::string& entrypoint,
                                              const spec::Limits& limits);

  const std::string& run_id() const;
  const Plan& plan() const;
  uint64_t v2_id() const;  // cgroup id of the run's v2 dir (BPF attachment)
  int v2_fd() const;       // O_DIRECTORY fd of the run's v2 dir
  const std::string& v2_path() const;
  // The run dir in every hierarchy used (v2 first).
  std::vector<std::string> run_dirs() const;

  // Kills every process of the run and removes its dirs now; idempotent.
  absl::Status Remove();

 private:
  struct State;
  explicit RunCgroups(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// "<pid>-<start time in clock ticks>" of a live process, read from /proc/<pid>/stat beneath root.
absl::StatusOr<std::string> RunIdFor(pid_t pid, const std::string& root = "/");
// True when `name` ("<pid>-<ticks>" or "<pid>-<ticks>.supervisor") names a process that is gone
// (no such pid, or a different start time). Names of another shape are never stale (not ours).
bool IsStaleRunName(const std::string& name, const std::string& root = "/");

}  // namespace shim::cgroup
