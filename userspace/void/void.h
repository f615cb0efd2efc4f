// A void: a fresh process holding nothing but what its entrypoint's spec grants (design.md
// section 5). PreparedVoid does the expensive parts once per entrypoint (ELF dependency list,
// the mount plan, the shared empty network namespace, the compiled seccomp filter); Spawn runs the
// per-instance recipe in the child and reports any failed step back to the caller.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "spec/model.h"

namespace shim::sandbox {  // `void` is a keyword

struct VoidOptions {
  // PR_SET_PDEATHSIG(SIGKILL): the void dies with the thread that spawned it. Spawn must then be
  // called from a thread that lives as long as the supervisor.
  bool kill_on_supervisor_death = true;
  // The void runs as inside_uid/inside_gid, which are host_uid/host_gid (default: nobody/nogroup)
  // outside. A `read_only: false` grant must therefore be writable by host_uid on the host.
  uid_t inside_uid = 1000;
  gid_t inside_gid = 1000;
  uid_t host_uid = 65534;
  gid_t host_gid = 65534;
  // Hostname of a void whose spec has no Hostname grant (the host's name is never shown).
  std::string default_hostname = "void";
  // Relative Filesystem host paths resolve against this folder (the spec's); empty: the cwd.
  std::string base_dir;
  // Refuse to spawn when the kernel has no Landlock (it is defence in depth behind the mounts).
  bool require_landlock = true;
  // Until its execve the child shares the supervisor's memory (CLONE_VM, like vfork but without
  // suspending the caller), sparing the page-table copy of a fork. x86_64 only; ignored with
  // debug_stop. Off: plain fork semantics.
  bool share_memory_until_exec = true;
  // Build the void's root once, in a template mount namespace that instances use, instead of
  // once per instance; built when `mount_template_after` instances have been spawned (0: at
  // Prepare), so an entrypoint started once never pays for it (~2-10 ms here). Grants are then
  // resolved when it is built. Ignored with Procfs. A thread that spawns from the template gets a
  // private filesystem context (unshare(CLONE_FS)): its cwd and umask stop following
  // chdir/umask calls made by other threads.
  bool mount_template = true;
  unsigned mount_template_after = 1;
  // With the template: instances share its (read-only, supervisor-owned) mount namespace instead
  // of each getting a copy. Off: each instance gets a copy (CLONE_NEWNS), locked in its user
  // namespace.
  bool share_template_mounts = true;
  // The host path of shim-init (static), for entrypoints with "init": true.
  std::string init_binary;
};

struct SpawnRequest {
  std::vector<std::string> argv;  // final argv (argv[0] included), built by the supervisor
  std::vector<int> fds;           // host fds (owned by the caller): fds[i] becomes fd 3+i
  int stdin_fd = -1;              // -1: /dev/null inside the void
  int stdout_fd = -1;
  int stderr_fd = -1;
  int cgroup_fd = -1;       // O_PATH|O_DIRECTORY fd of a v2 cgroup (CLONE_INTO_CGROUP), or -1
  bool debug_stop = false;  // stopped (SIGSTOP, sent by Spawn) just before execve, for --debug
  // cgroup.procs fds (opened O_WRONLY) of v1 hierarchies the void joins before exec; may be empty.
  std::vector<int> extra_v1_cgroup_procs_fds;
};

struct Instance {
  pid_t pid = -1;  // host pid
  UniqueFd pidfd;  // the caller reaps with waitid(P_PIDFD, pidfd, ..., WEXITED)
};

class PreparedVoid {
 public:
  // Resolves the binary and its ELF dependencies, checks every grant, compiles the seccomp filter,
  // creates the process-wide empty network namespace on first need (without a network grant) and,
  // with mount_template_after == 0, the mount template. Needs the supervisor's privileges (root:
  // CAP_SYS_ADMIN for the namespaces). Errors say what is wrong, not which entrypoint (the caller
  // owns that name and says it once): "binary X: ENOENT", "X is a script", "library L needed by
  // B not found", "grant /entrypoints/e/environment/2: host path H: ENOENT", "Landlock is not
  // available".
  static absl::StatusOr<std::unique_ptr<PreparedVoid>> Prepare(const spec::Entrypoint& entrypoint,
                                                               const VoidOptions& options = {});

  // Starts one instance: the binary, at its own host path inside the void, is executed with
  // request.argv and the entrypoint's environment (Entrypoint::env), as uid/gid
  // inside_uid/inside_gid, pid 1 of a new pid namespace (or the child of shim-init, pid 1, with
  // "init": true). Returns once the child has called execve (or, with debug_stop, once it is
  // stopped just before execve), or an error naming the failed step and errno, e.g.
  // "void step 'open_grant_source' (grant ...: H -> /data) failed: No such file or directory
  // (ENOENT)"; a failed child is reaped before Spawn returns. Thread-safe: several threads may
  // spawn at once (the netns and mount-namespace switches around clone3 are per thread). The
  // calling thread is the void's parent: with kill_on_supervisor_death, the void gets SIGKILL
  // when that thread exits. The caller reaps with waitid(P_PIDFD) (SIGCHLD is the exit signal).
  // The void starts with every signal at its default and none blocked; a signal the caller
  // starts ignoring after Prepare stays ignored in the voids (dispositions are read at Prepare).
  // A child stuck before execve for 10 s is killed and the spawn fails (DeadlineExceeded).
  absl::StatusOr<Instance> Spawn(const SpawnRequest& request) const;

  // The read-only host paths bound automatically for the binary (interpreter, libraries), for
  // diagnostics and tests.
  std::vector<std::string> AutomaticBinds() const;

  ~PreparedVoid();
  PreparedVoid(const PreparedVoid&) = delete;
  PreparedVoid& operator=(const PreparedVoid&) = delete;

  struct Plan;  // defined in void/plan.h

 private:
  explicit PreparedVoid(std::unique_ptr<Plan> plan);
  std::unique_ptr<Plan> plan_;
};

}  // namespace shim::sandbox
