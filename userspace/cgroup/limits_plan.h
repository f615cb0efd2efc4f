// Which cgroup backend enforces which limit on this host, decided once per run from the detected
// Host: a v2 controller when the v2 hierarchy offers it and it can be delegated to our children,
// else the v1 hierarchy carrying it, else nothing (and a limit asking for it is an error).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cgroup/host.h"
#include "spec/model.h"

namespace shim::cgroup {

enum class Resource { kMemory, kPids, kCpu };
inline constexpr Resource kAllResources[] = {Resource::kMemory, Resource::kPids, Resource::kCpu};

// "memory", "pids", "cpu": both the v1/v2 controller name and the spec's limit name.
const char* ResourceName(Resource r);

enum class Backend { kNone, kV2, kV1 };

struct ResourcePlan {
  Resource resource = Resource::kMemory;
  Backend backend = Backend::kNone;
  // kV1: the hierarchy's own_dir; kV2: the v2 own_dir. Empty for kNone.
  std::string base_dir;
  // kNone: why nothing can enforce it, for the error message.
  std::string unavailable_reason;
};

struct Plan {
  // Own v2 directory, beneath which the run's v2 subtree goes (always present: CLONE_INTO_CGROUP,
  // cgroup.kill and BPF attachment need v2 even when it carries no limits).
  std::string v2_base;
  bool v2_base_is_root = false;
  std::vector<ResourcePlan> resources;  // one per Resource, in kAllResources order
  // v2 controllers to write into cgroup.subtree_control along <base>/shim-bpf/<run>/<entrypoint>.
  std::vector<std::string> v2_controllers;
  // The own v2 cgroup holds only this process and must delegate controllers: the supervisor first
  // moves itself into the leaf <base>/shim-bpf/<run-id>.supervisor (cgroup v2 forbids processes in
  // a non-root cgroup that enables controllers for its children).
  bool v2_move_self = false;

  const ResourcePlan& For(Resource r) const;
  // One line per resource plus the v2 line, e.g.
  // "memory: cgroup v1 (/sys/fs/cgroup/memory/x/shim-bpf/<run_id>)".
  std::vector<std::string> Describe(const std::string& run_id = "<run>") const;
  // OK when every limit set in `limits` has a backend; otherwise FailedPrecondition naming the
  // limit's JSON pointer (limits.pointer + "/memory") and why it cannot be enforced.
  absl::Status CheckEnforceable(const spec::Limits& limits) const;
};

// Decides the plan from what the host offers. Reads the v2 own directory's cgroup.controllers,
// cgroup.subtree_control and cgroup.procs (beneath host.root).
absl::StatusOr<Plan> PlanLimits(const Host& host);

}  // namespace shim::cgroup
