#include "void/child.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/host_path.h"
#include "void/landlock.h"

namespace shim::sandbox {
namespace {

// A failed step: its name, errno and the plan entry concerned.
struct Failure {
  const char* step = nullptr;
  int err = 0;
  int index = -1;
};

using Result = Failure;  // step == nullptr: success
constexpr Result kOk{};

Result Fail(const char* step, int index = -1) { return Result{step, errno, index}; }

[[noreturn]] void Report(const ChildContext& c, const Result& r) {
  ChildReport report;
  strncpy(report.step, r.step, sizeof report.step - 1);
  report.err = r.err;
  report.index = r.index;
  // A short write cannot be retried meaningfully; the parent then sees a truncated report.
  (void)!write(c.report_write, &report, sizeof report);
  _exit(127);
}

// --- steps, in recipe order --------------------------------------------------------------------

// The supervisor may catch, block or ignore signals (signalfd); a void starts with the defaults.
// Handlers are gone already: clone3 cleared them (CLONE_CLEAR_SIGHAND), so none of the
// supervisor's can run here, where with shared memory it would run on the supervisor's data.
// What the supervisor ignored (as recorded at Prepare) would stay ignored across execve, so
// those are reset; only those: asking about all 64 signals was 60 system calls per spawn.
Result ResetSignals(const ChildContext& c) {
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG && sig <= 64; ++sig) {
    if ((c.plan->ignored_signals >> (sig - 1) & 1) == 0) continue;
    if (sigaction(sig, &dfl, nullptr) != 0) return Fail("reset_signals", sig);
  }
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) return Fail("reset_signals");
  return kOk;
}

Result DeathSignal(const ChildContext& c) {
  if (!c.plan->options.kill_on_supervisor_death) return kOk;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return Fail("pdeathsig");
  // The parent may have died before PR_SET_PDEATHSIG took effect (getppid() is 0 in a new pid
  // namespace, so ask the supervisor's pidfd instead).
  struct pollfd p = {c.plan->supervisor_pidfd.get(), POLLIN, 0};
  if (poll(&p, 1, 0) != 0) {
    errno = ESRCH;
    return Fail("pdeathsig");
  }
  return kOk;
}

// Blocks for the parent's next byte on the go socket; EPIPE when the parent gave up (or died).
Result AwaitGo(int go_fd, const char* step) {
  char byte;
  ssize_t n;
  do {
    n = read(go_fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) {
    if (n == 0) errno = EPIPE;
    return Fail(step);
  }
  return kOk;
}

Result WaitForMaps(const ChildContext& c) {
  close(c.go_write);
  close(c.report_read);
  return AwaitGo(c.go_read, "wait_for_id_maps");
}

// The parent moves the child into the v1 hierarchies' cgroups (memory, pids) while the child sets
// itself up: each move waits for an RCU grace period, which this way overlaps the steps below
// instead of adding to them. The limits must hold before the entrypoint's code runs, so the
// child waits here, just before execve, for the parent's byte saying they do.
Result WaitForV1Cgroups(const ChildContext& c, int go_fd) {
  if (c.request->extra_v1_cgroup_procs_fds.empty()) return kOk;
  return AwaitGo(go_fd, "wait_for_v1_cgroups");
}

// A session of its own, without a controlling terminal: a void given the operator's terminal as
// stdin cannot make itself the terminal's foreground process group (tcsetpgrp fails with ENOTTY),
// so Ctrl-C still reaches the supervisor, and it cannot read what the operator types next.
// (TIOCSTI and TIOCSCTTY are denied by seccomp as well.)
Result NewSession() {
  if (setsid() < 0) return Fail("setsid");
  return kOk;
}

// vm.memfd_noexec = 2 for the void's pid namespace (and every namespace below it): a memfd the
// void makes is never executable (MFD_EXEC refused, chmod +x sealed off), so execveat of a memfd
// cannot run code that is not a granted binary. Written through the supervisor's fd while the
// child is still host root (the sysctl's permission check) with every capability in its new user
// namespace (the handler's check, against the writer's pid namespace).
Result MemfdNoexec(const ChildContext& c) {
  if (!c.plan->memfd_noexec) return kOk;
  if (pwrite(c.plan->memfd_noexec.get(), "2", 1, 0) != 1) return Fail("memfd_noexec");
  return kOk;
}

Result PrivatePropagation() {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return Fail("private_propagation");
  }
  return kOk;
}

// Opened while the child still has the supervisor's host uid, before the tmpfs hides kStagingDir.
Result OpenSources(const ChildContext& c) {
  const auto& mounts = c.plan->mounts;
  for (size_t i = 0; i < mounts.size(); ++i) {
    // Exactly the inode resolved at Prepare, reached without following a symlink: a void that
    // can write a parent folder cannot redirect this bind (ELOOP, or ESTALE for a swapped inode).
    const int index = static_cast<int>(i);
    c.source_fds[i] = OpenNoSymlinksRaw(mounts[i].host_path.c_str(), O_PATH);
    if (c.source_fds[i] < 0) return Fail("open_grant_source", index);
    struct stat st;
    if (fstat(c.source_fds[i], &st) != 0) return Fail("open_grant_source", index);
    if (st.st_dev != mounts[i].dev || st.st_ino != mounts[i].ino) {
      errno = ESTALE;
      return Fail("grant_source_changed", index);
    }
  }
  return kOk;
}

Result SetIds(const ChildContext& c) {
  const VoidOptions& o = c.plan->options;
  // Shed the supervisor's supplementary groups (root's, on the host): /proc/PID/setgroups is
  // left at "allow" for exactly this call; CAP_SETGID is gone before exec and seccomp denies it.
  // Raw system calls, not glibc's wrappers: those apply the change to every thread glibc knows
  // of (__nptl_setxid), and after a raw clone3 glibc still lists the supervisor's threads. It
  // would signal them and wait for each, forever for one that was starting when we cloned (a
  // deadlock seen under ASan), and with CLONE_VM it would write into their live descriptors.
  // The kernel sets credentials per thread, and the child has exactly one.
  if (syscall(SYS_setgroups, 0, nullptr) != 0) return Fail("setgroups");
  if (syscall(SYS_setresgid, o.inside_gid, o.inside_gid, o.inside_gid) != 0) {
    return Fail("setresgid");
  }
  if (syscall(SYS_setresuid, o.inside_uid, o.inside_uid, o.inside_uid) != 0) {
    return Fail("setresuid");
  }
  return kOk;
}

Result TmpfsRoot() {
  if (mount("tmpfs", kStagingDir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            "mode=0755,size=1m,nr_inodes=4096") != 0) {
    return Fail("tmpfs_root");
  }
  return kOk;
}

Result MakeMountpoint(const MountEntry& m, int index) {
  for (const std::string& dir : m.new_parents) {
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Fail("mkdir_mountpoint", index);
  }
  if (m.directory) {
    if (mkdir(m.target.c_str(), 0755) != 0 && errno != EEXIST) {
      return Fail("mkdir_mountpoint", index);
    }
  } else {
    int fd = open(m.target.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0444);
    if (fd >= 0) {
      close(fd);
    } else if (errno != EEXIST) {
      return Fail("create_mountpoint", index);
    }
  }
  return kOk;
}

// Grants, the binary, its interpreter and libraries, and /dev nodes: one recursive bind each,
// its attributes set on the detached copy before it is attached (never a writable moment).
Result BindMounts(const ChildContext& c) {
  const auto& mounts = c.plan->mounts;
  for (size_t i = 0; i < mounts.size(); ++i) {
    const MountEntry& m = mounts[i];
    const int index = static_cast<int>(i);
    if (Result r = MakeMountpoint(m, index); r.step) return r;
    int tree = open_tree(c.source_fds[i], "",
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
    if (tree < 0) return Fail("bind_clone", index);
    struct mount_attr attr = {};
    attr.attr_set = m.attr_set;
    if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
      return Fail("bind_set_flags", index);
    }
    if (move_mount(tree, "", AT_FDCWD, m.target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
      return Fail("bind_attach", index);
    }
    close(tree);
    close(c.source_fds[i]);
  }
  return kOk;
}

// The directories each Tmpfs is mounted on, made in the root's tmpfs with the binds.
Result MakeTmpfsMountpoints(const ChildContext& c) {
  const auto& tmpfs = c.plan->tmpfs;
  for (size_t i = 0; i < tmpfs.size(); ++i) {
    for (const std::string& dir : tmpfs[i].new_parents) {
      if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        return Fail("mkdir_tmpfs_mountpoint", static_cast<int>(i));
      }
    }
    if (mkdir(tmpfs[i].target.c_str(), 0755) != 0 && errno != EEXIST) {
      return Fail("mkdir_tmpfs_mountpoint", static_cast<int>(i));
    }
  }
  return kOk;
}

// Each instance's own Tmpfs: mounted in the staging root (`staged`), or, for an instance of the
// template, at its path in this instance's copy of the template (the root is already in place).
// Mounted as the void's uid (after SetIds), so the void owns it.
Result MountTmpfs(const ChildContext& c, bool staged) {
  const auto& tmpfs = c.plan->tmpfs;
  for (size_t i = 0; i < tmpfs.size(); ++i) {
    const std::string& at = staged ? tmpfs[i].target : tmpfs[i].void_path;
    if (mount("tmpfs", at.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              tmpfs[i].data.c_str()) != 0) {
      return Fail("mount_tmpfs", static_cast<int>(i));
    }
  }
  return kOk;
}

// A new proc for the new pid namespace. Mounted before the old root is detached: the kernel only
// lets a user namespace mount proc while a fully visible proc is in its mount namespace.
Result Procfs(const ChildContext& c) {
  if (!c.plan->procfs) return kOk;
  if (mkdir(c.plan->proc_target.c_str(), 0555) != 0 && errno != EEXIST) return Fail("mkdir_proc");
  if (mount("proc", c.plan->proc_target.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            nullptr) != 0) {
    return Fail("mount_proc");
  }
  return kOk;
}

Result Hostname(const ChildContext& c) {
  const std::string& h = c.plan->hostname;
  if (sethostname(h.data(), h.size()) != 0) return Fail("sethostname");
  const std::string& d = c.plan->domainname;
  if (!d.empty() && setdomainname(d.data(), d.size()) != 0) return Fail("setdomainname");
  return kOk;
}

Result PivotRoot() {
  if (chdir(kStagingDir) != 0) return Fail("chdir_new_root");
  // pivot_root(".", "."): the old root ends up stacked on the new one, then is detached.
  if (syscall(SYS_pivot_root, ".", ".") != 0) return Fail("pivot_root");
  if (umount2(".", MNT_DETACH) != 0) return Fail("detach_old_root");
  if (chdir("/") != 0) return Fail("chdir_root");
  return kOk;
}

Result ChdirRoot() {
  if (chdir("/") != 0) return Fail("chdir_root");
  return kOk;
}

Result WorkingDirectory(const ChildContext& c) {
  if (c.plan->cwd == "/") return kOk;  // the root steps above end in /
  if (chdir(c.plan->cwd.c_str()) != 0) return Fail("chdir_cwd");
  return kOk;
}

Result ReadOnlyRoot() {
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof attr) != 0) return Fail("remount_root_ro");
  return kOk;
}

// Closes every fd from `first` up but the `n` in `keep` (sorted here, in place; negative entries
// and those below `first` are ignored). `step` names a failure.
Result CloseAllBut(unsigned first, int* keep, size_t n, const char* step) {
  std::sort(keep, keep + n);
  unsigned next = first;
  for (size_t i = 0; i < n; ++i) {
    if (keep[i] < 0 || static_cast<unsigned>(keep[i]) < next) continue;
    const unsigned fd = static_cast<unsigned>(keep[i]);
    if (fd > next && close_range(next, fd - 1, 0) != 0) return Fail(step);
    next = fd + 1;
  }
  if (close_range(next, ~0U, 0) != 0) return Fail(step);
  return kOk;
}

// Closes the child's copies of the supervisor's fds (its BPF objects, cgroup dirs, other voids'
// connections, ...), keeping only what the child still reads. Done first, so that the child's own
// opens and dups have room even when the supervisor's table is at RLIMIT_NOFILE, which the copy
// inherits (otherwise the spawn fails with EMFILE however few fds the void itself needs).
// No allocation here (the child may share the parent's memory): the list is kept in `keep`, room
// for 6 + request->fds.size() entries.
Result CloseUnneededFds(const ChildContext& c, int* keep) {
  const SpawnRequest& r = *c.request;
  size_t n = 0;
  for (int fd : {c.report_write, c.go_read, c.plan->supervisor_pidfd.get(), r.stdin_fd, r.stdout_fd,
                 r.stderr_fd}) {
    keep[n++] = fd;
  }
  for (int fd : r.fds) keep[n++] = fd;
  return CloseAllBut(3, keep, n, "close_unneeded_fds");  // 0..2 are replaced by RenumberFds
}

// fd 0..2 from stdio (or /dev/null), fds[i] at 3+i, nothing else. Every source is first copied
// above the highest target so that a dup2 never clobbers a source still to be copied.
Result RenumberFds(const ChildContext& c, int& report_fd, int& go_fd) {
  const SpawnRequest& r = *c.request;
  const unsigned count = 3 + r.fds.size();
  int dev_null = -1;
  if (r.stdin_fd < 0 || r.stdout_fd < 0 || r.stderr_fd < 0) {
    dev_null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (dev_null < 0) return Fail("open_dev_null");
  }
  for (unsigned t = 0; t < count; ++t) {
    int source = t == 0 ? r.stdin_fd : t == 1 ? r.stdout_fd : t == 2 ? r.stderr_fd : r.fds[t - 3];
    if (source < 0) {
      if (t >= 3) {
        errno = EBADF;
        return Fail("renumber_fds", static_cast<int>(t));
      }
      source = dev_null;
    }
    c.scratch_fds[t] = fcntl(source, F_DUPFD_CLOEXEC, count);
    if (c.scratch_fds[t] < 0) return Fail("renumber_fds", static_cast<int>(t));
  }
  report_fd = fcntl(report_fd, F_DUPFD_CLOEXEC, count);
  if (report_fd < 0) return Fail("renumber_fds");
  if (c.request->debug_stop || !c.request->extra_v1_cgroup_procs_fds.empty()) {
    go_fd = fcntl(go_fd, F_DUPFD_CLOEXEC, count);
    if (go_fd < 0) return Fail("renumber_fds");
  } else {
    go_fd = -1;
  }
  for (unsigned t = 0; t < count; ++t) {
    if (dup2(c.scratch_fds[t], t) != static_cast<int>(t)) return Fail("renumber_fds", t);
  }
  int keep[] = {report_fd, go_fd};
  return CloseAllBut(count, keep, 2, "close_range");
}

Result DropCapabilities(const ChildContext& c) {
  for (int cap = 0; cap <= c.plan->cap_last_cap; ++cap) {
    // No PR_CAPBSET_READ first: a new user namespace starts with the full bounding set
    // (set_cred_user_ns), whatever the supervisor's, so every one of them is there to drop.
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return Fail("drop_bounding_set", cap);
    }
  }
  // No way back to privilege through uid 0 semantics, locked.
  if (prctl(PR_SET_SECUREBITS,
            SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
            0, 0, 0) != 0) {
    return Fail("securebits");
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return Fail("clear_ambient");
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capset, &header, data) != 0) return Fail("capset");
  return kOk;
}

Result NoNewPrivs() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Fail("no_new_privs");
  return kOk;
}

Result Landlock(const ChildContext& c) {
  const PreparedVoid::Plan& p = *c.plan;
  if (p.landlock_abi == 0) return kOk;  // allowed by options.require_landlock == false
  landlock::RulesetAttr attr = {p.landlock_fs, p.landlock_net, p.landlock_scoped};
  int ruleset = static_cast<int>(
      syscall(SYS_landlock_create_ruleset, &attr, landlock::RulesetAttrSize(p.landlock_abi), 0));
  if (ruleset < 0) return Fail("landlock_create_ruleset");
  for (size_t i = 0; i < p.landlock_rules.size(); ++i) {
    const LandlockRule& rule = p.landlock_rules[i];
    int fd = open(rule.void_path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) return Fail("landlock_open_rule_path", static_cast<int>(i));
    struct stat st;
    if (fstat(fd, &st) != 0) return Fail("landlock_open_rule_path", static_cast<int>(i));
    landlock::PathBeneathAttr beneath = {};
    beneath.allowed_access = rule.access & p.landlock_fs;
    if (!S_ISDIR(st.st_mode)) beneath.allowed_access &= landlock::kFileRights;
    beneath.parent_fd = fd;
    if (syscall(SYS_landlock_add_rule, ruleset, landlock::kRulePathBeneath, &beneath, 0) != 0) {
      return Fail("landlock_add_rule", static_cast<int>(i));
    }
    close(fd);
  }
  if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) return Fail("landlock_restrict_self");
  close(ruleset);
  return kOk;
}

Result Seccomp(const ChildContext& c) {
  const auto& program = c.plan->seccomp;
  struct sock_fprog prog = {static_cast<unsigned short>(program.size()),
                            const_cast<sock_filter*>(program.data())};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return Fail("seccomp");
  return kOk;
}

// shim-init starts with every signal blocked: a signal sent to pid 1 while it has no handler is
// dropped, not queued, unless it is blocked, and the supervisor may send its stop signal as soon
// as the exec is done. shim-init takes them all synchronously and gives its child an empty mask.
Result BlockSignalsForInit(const ChildContext& c) {
  if (!c.plan->init) return kOk;
  sigset_t all;
  sigfillset(&all);
  if (sigprocmask(SIG_SETMASK, &all, nullptr) != 0) return Fail("block_signals_for_init");
  return kOk;
}

// --debug: tell the parent, which stops us with SIGSTOP (pid 1 of a pid namespace ignores a
// SIGSTOP it sends itself) and then lets us go on to execve once a debugger continues us.
Result DebugStop(const ChildContext& c, int report_fd, int go_fd) {
  if (!c.request->debug_stop) return kOk;
  ChildReport report;
  report.kind = ChildReport::Kind::kDebugStopping;
  if (write(report_fd, &report, sizeof report) != sizeof report) return Fail("debug_stop");
  char byte;
  if (read(go_fd, &byte, 1) != 1) return Fail("debug_stop");
  close(go_fd);
  return kOk;
}

}  // namespace

void RunTemplateBuilder(const ChildContext& c) {
  auto run = [&](Result r) {
    if (r.step != nullptr) Report(c, r);
  };
  close(c.go_write);
  close(c.report_read);
  run(PrivatePropagation());
  run(OpenSources(c));
  run(TmpfsRoot());
  run(BindMounts(c));
  run(MakeTmpfsMountpoints(c));
  run(PivotRoot());
  run(ReadOnlyRoot());
  ChildReport ready;
  ready.kind = ChildReport::Kind::kTemplateReady;
  if (write(c.report_write, &ready, sizeof ready) != sizeof ready) _exit(126);
  char byte;
  while (read(c.go_read, &byte, 1) < 0 && errno == EINTR) {
  }
  _exit(0);
}

namespace {
[[noreturn]] void RunChildTrampoline(const ChildContext* c) { RunChild(*c); }
}  // namespace

long Clone3RunChild(struct clone_args* args, const ChildContext* context) {
#if defined(__x86_64__)
  // The kernel starts the child on args->stack (when given) with the parent's registers: r12 and
  // r13 carry the function and its argument across, the child never returns into this frame.
  long ret;
  register auto* fn asm("r12") = &RunChildTrampoline;
  register const ChildContext* arg asm("r13") = context;
  asm volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "xor %%ebp, %%ebp\n\t"
      "mov %%r13, %%rdi\n\t"
      "call *%%r12\n\t"
      "ud2\n\t"
      "1:\n\t"
      : "=a"(ret)
      : "a"(static_cast<long>(SYS_clone3)), "D"(args), "S"(sizeof(*args)), "r"(fn), "r"(arg)
      : "rcx", "r11", "memory");
  if (ret < 0) {
    errno = static_cast<int>(-ret);
    return -1;
  }
  return ret;
#else
  if (args->flags & CLONE_VM) {
    errno = EINVAL;
    return -1;
  }
  long pid = syscall(SYS_clone3, args, sizeof(*args));
  if (pid == 0) RunChild(*context);
  return pid;
#endif
}

void RunChild(const ChildContext& c) {
  int report_fd = c.report_write;
  int go_fd = c.go_read;
  auto run = [&](Result r) {
    if (r.step != nullptr) {
      ChildContext copy = c;
      copy.report_write = report_fd;
      Report(copy, r);
    }
  };
  const bool per_instance_mounts = c.template_fd < 0;  // decided by the parent before clone
  run(ResetSignals(c));
  run(NewSession());
  run(WaitForMaps(c));  // a parent that dies meanwhile closes the go socket: the child exits
  run(MemfdNoexec(c));
  run(CloseUnneededFds(c, c.scratch_fds));
  if (per_instance_mounts) {
    run(PrivatePropagation());
    run(OpenSources(c));
  }
  run(SetIds(c));
  run(DeathSignal(c));  // after SetIds: a credential change clears PR_SET_PDEATHSIG
  if (per_instance_mounts) {
    run(TmpfsRoot());
    run(BindMounts(c));
    run(MakeTmpfsMountpoints(c));
    run(MountTmpfs(c, /*staged=*/true));
    run(Procfs(c));
  }
  run(Hostname(c));
  if (per_instance_mounts) {
    run(PivotRoot());
    run(ReadOnlyRoot());
  } else {
    // Cloned from the parent thread standing in the template: already the void's root, and
    // every mount of it locked together and read-only in this less privileged user namespace.
    run(ChdirRoot());
    run(MountTmpfs(c, /*staged=*/false));  // in this instance's own copy (CLONE_NEWNS)
  }
  run(WorkingDirectory(c));
  run(RenumberFds(c, report_fd, go_fd));
  run(DropCapabilities(c));
  run(NoNewPrivs());
  run(Landlock(c));
  run(Seccomp(c));
  run(WaitForV1Cgroups(c, go_fd));
  run(DebugStop(c, report_fd, go_fd));
  run(BlockSignalsForInit(c));
  execve(c.plan->exec_path.c_str(), c.argv, c.envp);
  run(Fail("execve"));
  _exit(127);
}

}  // namespace shim::sandbox
