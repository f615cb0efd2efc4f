#include "cgroup/limits_plan.h"

#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace shim::cgroup {

namespace {

std::set<std::string> ReadWords(const std::string& path) {
  std::set<std::string> words;
  absl::StatusOr<std::string> content = ReadFileToString(path);
  if (!content.ok()) return words;
  for (absl::string_view w : absl::StrSplit(*content, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
    words.emplace(w);
  }
  return words;
}

std::string Dirname(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// An earlier RunCgroups of this very process moved it into <base>/shim-bpf/<id>.supervisor;
// the base is then two levels up, and its controllers are already delegated.
bool IsOwnSupervisorLeaf(const std::string& dir, pid_t self) {
  const std::string name = Basename(dir);
  const std::string suffix = ".supervisor";
  if (name.size() <= suffix.size() ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return false;
  }
  if (Basename(Dirname(dir)) != "shim-bpf") return false;
  return name.rfind(absl::StrCat(self, "-"), 0) == 0;
}

const char* BackendName(Backend b) {
  switch (b) {
    case Backend::kV2:
      return "cgroup v2";
    case Backend::kV1:
      return "cgroup v1";
    case Backend::kNone:
      break;
  }
  return "not available";
}

}  // namespace

const char* ResourceName(Resource r) {
  switch (r) {
    case Resource::kMemory:
      return "memory";
    case Resource::kPids:
      return "pids";
    case Resource::kCpu:
      return "cpu";
  }
  return "?";
}

const ResourcePlan& Plan::For(Resource r) const {
  for (const ResourcePlan& p : resources) {
    if (p.resource == r) return p;
  }
  static const ResourcePlan kNone;
  return kNone;
}

std::vector<std::string> Plan::Describe(const std::string& run_id) const {
  std::vector<std::string> lines;
  lines.push_back(
      absl::StrCat("clone, kill, BPF: cgroup v2 (", v2_base, "/shim-bpf/", run_id, ")"));
  for (const ResourcePlan& p : resources) {
    if (p.backend == Backend::kNone) {
      lines.push_back(
          absl::StrCat(ResourceName(p.resource), ": not available (", p.unavailable_reason, ")"));
    } else {
      lines.push_back(absl::StrCat(ResourceName(p.resource), ": ", BackendName(p.backend), " (",
                                   p.base_dir, "/shim-bpf/", run_id, ")"));
    }
  }
  return lines;
}

absl::Status Plan::CheckEnforceable(const spec::Limits& limits) const {
  std::vector<std::string> errors;
  auto check = [&](bool requested, Resource r) {
    if (!requested) return;
    const ResourcePlan& p = For(r);
    if (p.backend != Backend::kNone) return;
    errors.push_back(absl::StrCat(limits.pointer, "/", ResourceName(r),
                                  ": cannot be enforced on this host: ", p.unavailable_reason));
  };
  check(limits.memory_bytes.has_value(), Resource::kMemory);
  check(limits.pids.has_value(), Resource::kPids);
  check(limits.cpu_percent.has_value(), Resource::kCpu);
  if (errors.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrJoin(errors, "; "));
}

absl::StatusOr<Plan> PlanLimits(const Host& host) {
  if (!host.v2) {
    return absl::FailedPreconditionError(
        "no cgroup2 filesystem is mounted where this process's v2 cgroup is visible (see "
        "/proc/self/mountinfo and /proc/self/cgroup); shim-bpf needs it for CLONE_INTO_CGROUP and "
        "cgroup.kill, e.g. `mount -t cgroup2 none /sys/fs/cgroup/unified`");
  }
  Plan plan;
  plan.v2_base = host.v2->own_dir;
  plan.v2_base_is_root = host.v2->own_is_root;
  if (!plan.v2_base_is_root && IsOwnSupervisorLeaf(plan.v2_base, host.self_pid)) {
    plan.v2_base = Dirname(Dirname(plan.v2_base));
  }
  const bool in_base = plan.v2_base == host.v2->own_dir;

  const std::set<std::string> available = ReadWords(plan.v2_base + "/cgroup.controllers");
  const std::set<std::string> delegated = ReadWords(plan.v2_base + "/cgroup.subtree_control");
  // Other processes in the base cgroup forbid enabling controllers for its children.
  std::vector<std::string> others;
  if (in_base && !plan.v2_base_is_root) {
    absl::StatusOr<std::string> procs = ReadFileToString(plan.v2_base + "/cgroup.procs");
    if (procs.ok()) {
      for (absl::string_view w : absl::StrSplit(*procs, '\n', absl::SkipEmpty())) {
        if (w != std::to_string(host.self_pid)) others.emplace_back(w);
      }
    }
  }

  for (Resource r : kAllResources) {
    const std::string name = ResourceName(r);
    ResourcePlan p;
    p.resource = r;
    if (available.count(name) != 0) {
      if (delegated.count(name) != 0) {
        p.backend = Backend::kV2;
      } else if (plan.v2_base_is_root) {
        p.unavailable_reason = absl::StrCat(
            "the cgroup v2 ", name,
            " controller is not enabled in the root cgroup's "
            "cgroup.subtree_control and shim-bpf does not change the root cgroup; enable it with "
            "`echo +",
            name, " > ", plan.v2_base, "/cgroup.subtree_control`");
      } else if (!others.empty()) {
        p.unavailable_reason = absl::StrCat(
            "the cgroup v2 ", name, " controller cannot be delegated to children of ", plan.v2_base,
            ": it holds other processes (", absl::StrJoin(others, " "),
            ") and cgroup v2 forbids processes in a cgroup that enables controllers for its "
            "children; start shim-bpf in a cgroup of its own, e.g. `systemd-run --scope -p "
            "Delegate=yes shim-bpf ...`");
      } else {
        p.backend = Backend::kV2;
        plan.v2_move_self = in_base;
      }
      if (p.backend == Backend::kV2) {
        p.base_dir = plan.v2_base;
        plan.v2_controllers.push_back(name);
      }
    } else if (const Hierarchy* h = host.V1With(name)) {
      p.backend = Backend::kV1;
      p.base_dir = h->own_dir;
    } else {
      p.unavailable_reason = absl::StrCat(
          "no ", name, " controller: the cgroup v2 hierarchy at ", host.v2->mount_point,
          " does not offer it (", plan.v2_base, "/cgroup.controllers: \"",
          absl::StrJoin(available, " "), "\") and no cgroup v1 hierarchy mounts it");
    }
    plan.resources.push_back(std::move(p));
  }
  return plan;
}

}  // namespace shim::cgroup
