#include "void/void.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/annotate.h"
#include "common/errno_status.h"
#include "common/file_util.h"
#include "common/host_path.h"
#include "common/pidfd.h"
#include "common/status_macros.h"
#include "void/child.h"
#include "void/landlock.h"
#include "void/seccomp_filter.h"

namespace shim::sandbox {
namespace {

std::string Normal(const std::string& path) {
  std::string out = std::filesystem::path(path).lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

// The empty network namespace every instance of a network-less entrypoint shares. It is owned by
// the supervisor's (initial) user namespace, so nothing inside a void can configure it: not even
// its loopback comes up.
absl::StatusOr<UniqueFd> CreateEmptyNetns() {
  UniqueFd original(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!original) return ErrnoStatus("open own network namespace");
  if (unshare(CLONE_NEWNET) != 0) return ErrnoStatus("unshare(CLONE_NEWNET) for the empty netns");
  UniqueFd empty(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  int saved = errno;
  if (setns(original.get(), CLONE_NEWNET) != 0) {
    // This thread would stay cut off from the network: never continue like that.
    perror("shim-bpf: cannot return to the supervisor's network namespace");
    abort();
  }
  if (!empty) return ErrnoStatus("open the empty network namespace", saved);
  return empty;
}

// How long a void may take from clone3 to execve (normally well under 10 ms).
constexpr std::chrono::milliseconds kChildSetupTimeout = std::chrono::seconds(10);

// Waits until `fd` is readable (or its other end closed): false with errno ETIMEDOUT after
// `timeout`, or the poll error.
bool WaitReadable(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      errno = ETIMEDOUT;
      return false;
    }
    struct pollfd p = {fd, POLLIN, 0};
    const int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

// One empty network namespace for the whole process (every entrypoint of every run without a
// network grant): creating one costs ~0.5 ms, sharing it costs nothing (abstract unix sockets,
// the only thing it could share, are out of reach through Landlock's scope).
absl::StatusOr<int> SharedEmptyNetns() {
  static std::mutex mu;
  static int fd = -1;
  std::lock_guard<std::mutex> lock(mu);
  if (fd >= 0) return fd;
  ASSIGN_OR_RETURN(UniqueFd netns, CreateEmptyNetns());
  fd = netns.release();
  return fd;
}

// Resolves the mount's host path once, here (root's symlinks only), and remembers which inode it
// named: the template builder and every per-instance child open exactly that path again without
// following any symlink and check they found the same inode, so a void that swapped a component
// since (a folder for a symlink to /) gets nothing.
absl::Status AddMount(PreparedVoid::Plan& plan, const std::string& written_host_path,
                      const std::string& void_path, uint64_t attr, std::string what) {
  absl::StatusOr<std::string> canonical = CanonicalTrustedPath(written_host_path);
  if (!canonical.ok()) {
    return Annotate(canonical.status(), what);
  }
  std::string host_path = *std::move(canonical);
  absl::StatusOr<UniqueFd> source = OpenNoSymlinks(host_path, O_PATH);
  if (!source.ok()) {
    return Annotate(source.status(), what);
  }
  struct stat st;
  if (fstat(source->get(), &st) != 0) {
    return ErrnoStatus(absl::StrCat(what, ": host path ", host_path));
  }
  for (const MountEntry& m : plan.mounts) {
    if (m.void_path == void_path) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", void_path, " is already used by ", m.what));
    }
  }
  MountEntry m;
  m.host_path = std::move(host_path);
  m.void_path = void_path;
  m.target = absl::StrCat(kStagingDir, void_path);
  m.directory = S_ISDIR(st.st_mode);
  m.dev = st.st_dev;
  m.ino = st.st_ino;
  m.attr_set = attr;
  m.what = std::move(what);
  plan.mounts.push_back(std::move(m));
  return absl::OkStatus();
}

// Sorts mounts so that every path comes after its parents, and lists for each the directories
// it is the first to need.
// The staging-prefixed directories `void_path` is the first to need (its parents not in `made`),
// outermost first; records them in `made`.
std::vector<std::string> NewParents(const std::string& void_path, std::set<std::string>& made) {
  std::vector<std::string> parents;
  for (std::filesystem::path p = std::filesystem::path(void_path).parent_path();
       p != "/" && !p.empty(); p = p.parent_path()) {
    parents.push_back(p.string());
  }
  std::reverse(parents.begin(), parents.end());
  std::vector<std::string> out;
  for (const std::string& dir : parents) {
    if (made.insert(dir).second) out.push_back(absl::StrCat(kStagingDir, dir));
  }
  return out;
}

void OrderMounts(PreparedVoid::Plan& plan) {
  std::sort(plan.mounts.begin(), plan.mounts.end(),
            [](const MountEntry& a, const MountEntry& b) { return a.void_path < b.void_path; });
  std::set<std::string> made;
  for (MountEntry& m : plan.mounts) {
    m.new_parents = NewParents(m.void_path, made);
    if (m.directory) made.insert(m.void_path);
  }
  for (TmpfsEntry& t : plan.tmpfs) {
    t.new_parents = NewParents(t.void_path, made);
    made.insert(t.void_path);
  }
}

// A grant's or Tmpfs's path in the void, normalised: absolute and not "/".
absl::StatusOr<std::string> VoidPathOf(const std::string& environment_path,
                                       const std::string& pointer) {
  std::string in_void = Normal(environment_path);
  if (in_void.empty() || in_void[0] != '/' || in_void == "/") {
    return absl::InvalidArgumentError(
        absl::StrCat(pointer, ": environment_path must be absolute and not /"));
  }
  return in_void;
}

absl::StatusOr<int> CapLastCap() {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString("/proc/sys/kernel/cap_last_cap"));
  int value = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &value)) {
    return absl::InternalError("unreadable /proc/sys/kernel/cap_last_cap");
  }
  return value;
}

// The child's stack while it shares the supervisor's memory (CLONE_VM), with a guard page below.
class ChildStack {
 public:
  ChildStack() = default;
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;
  ~ChildStack() {
    if (mapping_ != MAP_FAILED) munmap(mapping_, kGuard + kSize);
  }
  absl::Status Allocate() {
    mapping_ = mmap(nullptr, kGuard + kSize, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    if (mapping_ == MAP_FAILED) return ErrnoStatus("void step 'child_stack' failed");
    if (mprotect(mapping_, kGuard, PROT_NONE) != 0) {
      const int err = errno;
      munmap(mapping_, kGuard + kSize);
      mapping_ = MAP_FAILED;
      return ErrnoStatus("void step 'child_stack' failed", err);
    }
    return absl::OkStatus();
  }
  bool allocated() const { return mapping_ != MAP_FAILED; }
  void* base() const { return static_cast<char*>(mapping_) + kGuard; }
  size_t size() const { return kSize; }

 private:
  static constexpr size_t kGuard = 4096;
  static constexpr size_t kSize = 256 * 1024;
  void* mapping_ = MAP_FAILED;
};

std::string StepError(const PreparedVoid::Plan& plan, const ChildReport& report) {
  std::string step(report.step, strnlen(report.step, sizeof report.step));
  std::string detail;
  if (step == "chdir_cwd") {
    detail = absl::StrCat(" (cwd ", plan.cwd, ")");
  } else if (report.index >= 0) {
    if (absl::StrContains(step, "tmpfs") &&
        static_cast<size_t>(report.index) < plan.tmpfs.size()) {
      detail = absl::StrCat(" (Tmpfs ", plan.tmpfs[report.index].void_path, ")");
    } else if (absl::StartsWith(step, "landlock") &&
        static_cast<size_t>(report.index) < plan.landlock_rules.size()) {
      detail = absl::StrCat(" (", plan.landlock_rules[report.index].void_path, ")");
    } else if ((absl::StartsWith(step, "bind") || absl::StrContains(step, "mountpoint") ||
                absl::StartsWith(step, "open_grant") || absl::StartsWith(step, "grant_source")) &&
               static_cast<size_t>(report.index) < plan.mounts.size()) {
      const MountEntry& m = plan.mounts[report.index];
      detail = absl::StrCat(" (", m.what, ": ", m.host_path, " -> ", m.void_path, ")");
    } else {
      detail = absl::StrCat(" (#", report.index, ")");
    }
  }
  return absl::StrCat("void step '", step, "'", detail, " failed");
}

// One report from a child's report pipe: the bytes read (sizeof(ChildReport) for a whole report,
// 0 at EOF, which after a successful execve is the good news), or -1 with errno.
ssize_t ReadChildReport(int report_read, ChildReport& report) {
  ssize_t n;
  do {
    n = read(report_read, &report, sizeof report);
  } while (n < 0 && errno == EINTR);
  return n;
}

// The failure a child reported before it was killed, if it reported one (its report pipe is at
// EOF once it is reaped, so this never blocks); OK when it had reported nothing.
absl::Status ReportedChildFailure(const PreparedVoid::Plan& plan, int report_read) {
  ChildReport report;
  if (ReadChildReport(report_read, report) != sizeof report ||
      report.kind != ChildReport::Kind::kFailure) {
    return absl::OkStatus();
  }
  return ErrnoStatus(StepError(plan, report), report.err);
}

// What an fd is open on, for error messages.
std::string FdTarget(int fd) {
  std::error_code ec;
  std::filesystem::path target =
      std::filesystem::read_symlink(absl::StrCat("/proc/self/fd/", fd), ec);
  return ec ? absl::StrCat("fd ", fd) : target.string();
}

// Forks a helper into a new mount namespace that builds the void's root once; keeps an fd of that
// namespace as the template and lets the helper exit.
absl::StatusOr<UniqueFd> BuildTemplateMountNamespace(const PreparedVoid::Plan& plan) {
  int hold[2], report[2];
  if (pipe2(hold, O_CLOEXEC) != 0) return ErrnoStatus("void template: pipe");
  UniqueFd hold_read(hold[0]), hold_write(hold[1]);
  if (pipe2(report, O_CLOEXEC) != 0) return ErrnoStatus("void template: pipe");
  UniqueFd report_read(report[0]), report_write(report[1]);
  std::vector<int> source_fds(plan.mounts.size(), -1);
  ChildContext context;
  context.plan = &plan;
  context.go_read = hold_read.get();
  context.go_write = hold_write.get();
  context.report_write = report_write.get();
  context.report_read = report_read.get();
  context.source_fds = source_fds.data();
  struct clone_args args = {};
  args.flags = CLONE_NEWNS;
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) RunTemplateBuilder(context);
  if (pid < 0) return ErrnoStatus("void template: clone3");
  hold_read.reset();
  report_write.reset();
  auto reap = [&]() {
    hold_write.reset();
    int status;
    while (waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
    }
  };
  ChildReport result;
  if (ReadChildReport(report_read.get(), result) != sizeof result) {
    reap();
    return absl::InternalError("void template: the builder died without a report");
  }
  if (result.kind != ChildReport::Kind::kTemplateReady) {
    reap();
    return ErrnoStatus(absl::StrCat(StepError(plan, result), " (building the template root)"),
                       result.err);
  }
  UniqueFd mntns(open(absl::StrCat("/proc/", pid, "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC));
  int err = errno;
  reap();
  if (!mntns) return ErrnoStatus("void template: open its mount namespace", err);
  return mntns;
}

// The template mount namespace's fd, built on first need; a failure is remembered and returned
// to every later spawn (the entrypoint is broken, not slow).
absl::StatusOr<int> EnsureTemplate(const PreparedVoid::Plan& plan) {
  std::lock_guard<std::mutex> lock(plan.template_mu);
  if (plan.template_mntns) return plan.template_mntns.get();
  if (!plan.template_error.ok()) return plan.template_error;
  absl::StatusOr<UniqueFd> mntns = BuildTemplateMountNamespace(plan);
  if (!mntns.ok()) {
    plan.template_error = mntns.status();
    return plan.template_error;
  }
  plan.template_mntns = std::move(*mntns);
  plan.template_fd.store(plan.template_mntns.get(), std::memory_order_release);
  return plan.template_mntns.get();
}

// The signals this process ignores now (bit sig - 1).
uint64_t IgnoredSignals() {
  uint64_t ignored = 0;
  for (int sig = 1; sig < NSIG && sig <= 64; ++sig) {
    struct sigaction old = {};
    if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, nullptr, &old) == 0 &&
        old.sa_handler == SIG_IGN) {
      ignored |= 1ULL << (sig - 1);
    }
  }
  return ignored;
}

// Spawn switches the calling thread into the template mount namespace around clone3, which
// needs a thread that does not share its filesystem context (cwd, root, umask) with others.
// Asked every time, not once per thread: a thread created by this one since shares the context
// again. When it is already private the kernel returns at once.
absl::Status PrivateFsContextForThisThread() {
  if (unshare(CLONE_FS) != 0) return ErrnoStatus("void step 'unshare_fs' failed");
  return absl::OkStatus();
}

// --- the parent's side of a spawn, step by step (PreparedVoid::Spawn) -------------------------

// Kills and reaps the child of a spawn that fails after clone3, unless released: every early
// return after the clone leaves nothing behind.
class ChildGuard {
 public:
  explicit ChildGuard(int pidfd) : pidfd_(pidfd) {}
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  ~ChildGuard() { KillAndReap(); }
  void KillAndReap() {
    if (pidfd_ < 0) return;
    PidfdSendSignal(pidfd_, SIGKILL);
    siginfo_t info;
    while (waitid(P_PIDFD, pidfd_, &info, WEXITED) != 0 && errno == EINTR) {
    }
    pidfd_ = -1;
  }
  void Release() { pidfd_ = -1; }

 private:
  int pidfd_;
};

// This thread standing in another namespace (CLONE_NEWNET or CLONE_NEWNS) until Leave() or the
// end of the scope. The way back must not fail: the thread, a spawn worker or the supervisor's
// loop, would go on in a void's namespace, so failing to return aborts the process.
class ScopedNamespace {
 public:
  ScopedNamespace() = default;
  ScopedNamespace(const ScopedNamespace&) = delete;
  ScopedNamespace& operator=(const ScopedNamespace&) = delete;
  ~ScopedNamespace() { Leave(); }

  absl::Status Enter(int target, int nstype) {
    const bool mnt = nstype == CLONE_NEWNS;
    if (mnt) {
      // setns(CLONE_NEWNS) resets the cwd: remember it to come back to.
      original_cwd_.reset(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!original_cwd_) return ErrnoStatus("void step 'open_cwd' failed");
    }
    original_.reset(open(mnt ? "/proc/thread-self/ns/mnt" : "/proc/thread-self/ns/net",
                         O_RDONLY | O_CLOEXEC));
    if (!original_) return ErrnoStatus(mnt ? "void step 'open_mntns' failed"
                                           : "void step 'open_netns' failed");
    if (setns(target, nstype) != 0) {
      const int err = errno;
      original_.reset();
      return ErrnoStatus(mnt ? "void step 'setns_template' failed"
                             : "void step 'setns_empty_netns' failed",
                         err);
    }
    nstype_ = nstype;
    return absl::OkStatus();
  }

  void Leave() {
    if (!original_) return;
    if (setns(original_.get(), nstype_) != 0 ||
        (original_cwd_ && fchdir(original_cwd_.get()) != 0)) {
      perror(nstype_ == CLONE_NEWNS ? "shim-bpf: cannot return to the supervisor's mount namespace"
                                    : "shim-bpf: cannot return to the supervisor's network "
                                      "namespace");
      abort();
    }
    original_.reset();
    original_cwd_.reset();
  }

 private:
  UniqueFd original_, original_cwd_;
  int nstype_ = 0;
};

// Everything the child reads, allocated before clone3 and alive until the child has left it
// (execve, or killed and reaped): with CLONE_VM the child reads this very memory.
struct SpawnFrame {
  std::vector<char*> argv;
  std::vector<int> source_fds;   // ChildContext::source_fds
  std::vector<int> scratch_fds;  // ChildContext::scratch_fds
  UniqueFd go_read, go_write, report_read, report_write;
  ChildContext context;
};

// Step 1: the frame. The go channel is a socket pair so that the parent's send() to a child that
// died meanwhile fails with EPIPE instead of raising SIGPIPE in the supervisor (MSG_NOSIGNAL).
absl::Status BuildFrame(const PreparedVoid::Plan& plan, const SpawnRequest& request,
                        SpawnFrame& frame) {
  frame.argv.reserve(request.argv.size() + 3);
  if (plan.init) {  // shim-init PATH ARGV0 ARG...
    frame.argv.push_back(const_cast<char*>(kInitInVoid));
    frame.argv.push_back(const_cast<char*>(plan.binary_in_void.c_str()));
  }
  for (const std::string& a : request.argv) frame.argv.push_back(const_cast<char*>(a.c_str()));
  frame.argv.push_back(nullptr);
  frame.source_fds.assign(plan.mounts.size(), -1);
  frame.scratch_fds.assign(6 + request.fds.size(), -1);
  int go[2], report[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) != 0) {
    return ErrnoStatus("void step 'socketpair' failed");
  }
  frame.go_read.reset(go[0]);
  frame.go_write.reset(go[1]);
  if (pipe2(report, O_CLOEXEC) != 0) return ErrnoStatus("void step 'pipe' failed");
  frame.report_read.reset(report[0]);
  frame.report_write.reset(report[1]);
  ChildContext& context = frame.context;
  context.plan = &plan;
  context.request = &request;
  context.argv = frame.argv.data();
  context.envp = plan.envp.data();
  context.go_read = frame.go_read.get();
  context.go_write = frame.go_write.get();
  context.report_write = frame.report_write.get();
  context.report_read = frame.report_read.get();
  context.source_fds = frame.source_fds.data();
  context.scratch_fds = frame.scratch_fds.data();
  return absl::OkStatus();
}

// Step 2: whether this instance uses the template, decided once and handed to the child (the
// template may appear meanwhile on another thread, but this child must agree with its parent).
// -1: it builds its own mounts.
absl::StatusOr<int> TemplateForThisSpawn(const PreparedVoid::Plan& plan) {
  if (!plan.template_wanted) return -1;
  const int template_fd = plan.template_fd.load(std::memory_order_acquire);
  const uint64_t spawned_before = plan.spawns.fetch_add(1, std::memory_order_relaxed);
  if (template_fd >= 0 || spawned_before < plan.options.mount_template_after) return template_fd;
  absl::StatusOr<int> fd = EnsureTemplate(plan);
  if (!fd.ok()) {
    return Annotate(fd.status(), "void template");
  }
  return *fd;
}

// Step 3: clone3 into the new namespaces. This thread stands in the empty netns (without a
// network grant) and in the template (when there is one) around the clone, so that the child
// starts in them; it is back in its own before this returns, whatever happened.
absl::StatusOr<Instance> CloneIntoNamespaces(const PreparedVoid::Plan& plan,
                                             const SpawnRequest& request, SpawnFrame& frame) {
  const int template_fd = frame.context.template_fd;
  ScopedNamespace in_netns, in_mntns;
  if (template_fd >= 0) RETURN_IF_ERROR(PrivateFsContextForThisThread());
  if (!plan.network) RETURN_IF_ERROR(in_netns.Enter(plan.empty_netns, CLONE_NEWNET));
  if (template_fd >= 0) RETURN_IF_ERROR(in_mntns.Enter(template_fd, CLONE_NEWNS));
  int pidfd = -1;
  struct clone_args args = {};
  // CLONE_CLEAR_SIGHAND: the child starts with no supervisor signal handler installed.
  args.flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP |
               CLONE_PIDFD | CLONE_CLEAR_SIGHAND;
  // With a template, instances share its mount namespace instead of copying it: it is read-only,
  // identical for every instance, and owned by the supervisor's user namespace, where a void has
  // no capability (so not even a locked copy's limited mount rights exist). Sharing spares each
  // instance the copy and, above all, the teardown (an RCU grace period) when it exits. A Tmpfs
  // is each instance's own, so those instances mount it in a copy of the template.
  if (template_fd < 0 || !plan.options.share_template_mounts || !plan.tmpfs.empty()) {
    args.flags |= CLONE_NEWNS;
  }
  if (request.cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(request.cgroup_fd);
  }
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  // Sharing memory until execve spares copying the supervisor's page tables (the biggest part of
  // a fork). Not with debug_stop: a stopped child would still be using the stack freed below.
  // The child only reads what the frame prepared and writes its own stack and the scratch
  // arrays; it shares this thread's TLS, so its errno writes can race with ours (an error
  // message could then name the wrong errno, nothing else is affected).
  // One stack per spawning thread, kept for its next spawn: Spawn returns only once the child has
  // left it (execve, or killed and reaped). A fresh one each time cost an munmap, whose TLB
  // shootdown interrupts every core running one of the supervisor's other threads.
  thread_local ChildStack stack;
  if (kCanShareMemory && plan.options.share_memory_until_exec && !request.debug_stop) {
    if (!stack.allocated()) RETURN_IF_ERROR(stack.Allocate());
    args.flags |= CLONE_VM;
    args.stack = reinterpret_cast<uint64_t>(stack.base());
    args.stack_size = stack.size();
  }
  // The child starts with every signal blocked until ResetSignals has restored the dispositions
  // a program expects (handlers are cleared by CLONE_CLEAR_SIGHAND, ignored signals by it).
  sigset_t all, old_mask;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old_mask);
  const long pid = Clone3RunChild(&args, &frame.context);
  const int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  in_netns.Leave();
  in_mntns.Leave();
  if (pid < 0) return ErrnoStatus("void step 'clone3' failed", clone_errno);
  Instance instance;
  instance.pid = static_cast<pid_t>(pid);
  instance.pidfd.reset(pidfd);
  frame.go_read.reset();
  frame.report_write.reset();
  return instance;
}

// Step 4: the uid/gid maps (only a writer in the parent user namespace may map another uid than
// its own).
absl::Status WriteIdMaps(const PreparedVoid::Plan& plan, pid_t pid) {
  const std::string proc = absl::StrCat("/proc/", pid);
  for (const auto& [file, content] :
       {std::pair<const char*, const std::string*>{"/uid_map", &plan.uid_map},
        std::pair<const char*, const std::string*>{"/gid_map", &plan.gid_map}}) {
    if (absl::Status s = WriteStringToFile(proc + file, *content); !s.ok()) {
      return Annotate(s, "void step 'id_map' failed");
    }
  }
  return absl::OkStatus();
}

absl::Status SendGo(int go_write, char byte) {
  if (send(go_write, &byte, 1, MSG_NOSIGNAL) != 1) {
    return ErrnoStatus("void step 'start_child' failed");
  }
  return absl::OkStatus();
}

// Step 5: the v1 cgroup moves (memory, pids), made from here while the child sets itself up: it
// waits for the byte sent at the end before execve. Done by the parent rather than the child, each
// move's RCU grace period overlaps the child's own steps. A move fails with ESRCH when the child
// is already gone: the caller then asks its report why.
absl::Status JoinV1Cgroups(const SpawnRequest& request, pid_t pid, int go_write) {
  if (request.extra_v1_cgroup_procs_fds.empty()) return absl::OkStatus();
  const std::string pid_text = absl::StrCat(pid);
  for (const int procs_fd : request.extra_v1_cgroup_procs_fds) {
    if (write(procs_fd, pid_text.data(), pid_text.size()) !=
        static_cast<ssize_t>(pid_text.size())) {
      return ErrnoStatus(
          absl::StrCat("void step 'join_v1_cgroup' failed (", FdTarget(procs_fd), ")"));
    }
  }
  if (send(go_write, "j", 1, MSG_NOSIGNAL) != 1 && errno != EPIPE) {
    return ErrnoStatus("void step 'start_child' failed");
  }
  return absl::OkStatus();
}

// Step 6: the child reports a failed step, or closes the pipe on execve. A child that does
// neither is stuck before exec (it should take milliseconds): never let it hold this thread, and
// with it a worker or the supervisor's shutdown, forever. With debug_stop, the child's report
// says it is about to stop: it is stopped from here (it cannot stop itself as pid 1), then let
// go on to execve, where the pending SIGSTOP holds it.
absl::Status AwaitExec(const PreparedVoid::Plan& plan, const SpawnFrame& frame,
                       const Instance& instance) {
  if (!WaitReadable(frame.report_read.get(), kChildSetupTimeout)) {
    const int err = errno;
    return absl::DeadlineExceededError(absl::StrCat(
        "void step 'child_setup' did not finish: no report and no execve within ",
        std::chrono::duration_cast<std::chrono::seconds>(kChildSetupTimeout).count(), " s (",
        err == ETIMEDOUT ? "the child was stuck before exec" : std::strerror(err), "; killed)"));
  }
  ChildReport result;
  const ssize_t n = ReadChildReport(frame.report_read.get(), result);
  if (n == 0) return absl::OkStatus();  // the report pipe closed on execve: the void runs
  if (n == sizeof result && result.kind == ChildReport::Kind::kDebugStopping) {
    if (PidfdSendSignal(instance.pidfd.get(), SIGSTOP) != 0 ||
        send(frame.go_write.get(), "g", 1, MSG_NOSIGNAL) != 1) {
      return ErrnoStatus("void step 'debug_stop' failed");
    }
    siginfo_t info;
    while (waitid(P_PIDFD, instance.pidfd.get(), &info, WSTOPPED | WNOWAIT) != 0 &&
           errno == EINTR) {
    }
    return absl::OkStatus();
  }
  if (n != sizeof result) {
    return ErrnoStatus("void step 'read_child_report' failed", n < 0 ? errno : EPROTO);
  }
  return ErrnoStatus(StepError(plan, result), result.err);
}

}  // namespace

PreparedVoid::PreparedVoid(std::unique_ptr<Plan> plan) : plan_(std::move(plan)) {}
PreparedVoid::~PreparedVoid() = default;

absl::StatusOr<std::unique_ptr<PreparedVoid>> PreparedVoid::Prepare(
    const spec::Entrypoint& entrypoint, const VoidOptions& options) {
  auto plan = std::make_unique<Plan>();
  plan->options = options;
  plan->entrypoint = entrypoint.name;
  // Errors say what is wrong with this void, not which entrypoint it is: the caller (the
  // supervisor, which owns the name) says that once.

  // The binary and what it needs to start.
  if (entrypoint.binary_path.empty()) {
    return absl::InvalidArgumentError("no binary path");
  }
  if (access(entrypoint.binary_path.c_str(), X_OK) != 0) {
    return ErrnoStatus(absl::StrCat("binary ", entrypoint.binary_path));
  }
  // The binary is shown at its own path, so that argv[0], comm, /proc/self/exe and programs that
  // re-execute themselves (sys.executable) all find the real name.
  plan->binary_in_void = Normal(entrypoint.binary_path);
  plan->init = entrypoint.init;
  plan->exec_path = plan->init ? kInitInVoid : plan->binary_in_void;
  plan->cwd = entrypoint.cwd.value_or("/");
  absl::StatusOr<std::vector<DependencyBind>> deps = ResolveElfDependencies(
      entrypoint.binary_path, plan->binary_in_void, HostLibrarySearchPath());
  if (!deps.ok()) return deps.status();
  plan->dependencies = *deps;

  constexpr uint64_t kRo = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  using namespace landlock;
  auto add = [&](const std::string& host, std::string in_void, uint64_t attr, std::string what,
                 uint64_t access) -> absl::Status {
    RETURN_IF_ERROR(AddMount(*plan, host, in_void, attr, std::move(what)));
    plan->landlock_rules.push_back({std::move(in_void), access});
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(
      add(entrypoint.binary_path, plan->binary_in_void, kRo, "the binary", kReadFile | kExecute));
  if (plan->init) {
    if (options.init_binary.empty()) {
      return absl::FailedPreconditionError(
          "\"init\": true, but no shim-init binary is configured");
    }
    RETURN_IF_ERROR(add(options.init_binary, kInitInVoid, kRo, "shim-init", kReadFile | kExecute));
  }
  for (size_t i = 0; i < plan->dependencies.size(); ++i) {
    const DependencyBind& d = plan->dependencies[i];
    // The interpreter is opened by execve itself, which Landlock checks as an execution.
    uint64_t access = i == 0 ? kReadFile | kExecute : kReadFile;
    RETURN_IF_ERROR(
        add(d.host_path, d.void_path, kRo, absl::StrCat("library ", d.void_path), access));
  }
  for (const char* dev : {"/dev/null", "/dev/zero", "/dev/urandom"}) {
    RETURN_IF_ERROR(add(dev, dev, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
                        absl::StrCat("device ", dev), kReadFile | kWriteFile));
  }

  plan->env = entrypoint.env;
  for (std::string& e : plan->env) plan->envp.push_back(e.data());
  plan->envp.push_back(nullptr);

  // The environment grants.
  plan->hostname = options.default_hostname;
  for (const spec::Environment& env : entrypoint.environment) {
    if (const auto* fs = std::get_if<spec::EnvFilesystem>(&env.kind)) {
      std::string host = fs->host_path;
      if (!host.empty() && host[0] != '/') {
        std::string base = options.base_dir;
        if (base.empty()) base = std::filesystem::current_path().string();
        host = absl::StrCat(base, "/", host);
      }
      host = Normal(host);
      ASSIGN_OR_RETURN(const std::string in_void, VoidPathOf(fs->environment_path, env.pointer));
      uint64_t attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
      if (!fs->exec) attr |= MOUNT_ATTR_NOEXEC;
      if (fs->read_only) attr |= MOUNT_ATTR_RDONLY;
      RETURN_IF_ERROR(AddMount(*plan, host, in_void, attr, absl::StrCat("grant ", env.pointer)));
      plan->landlock_rules.push_back(
          {in_void, (fs->read_only ? kReadOnly : kReadWrite) | (fs->exec ? kExecute : 0)});
    } else if (const auto* t = std::get_if<spec::EnvTmpfs>(&env.kind)) {
      TmpfsEntry tmpfs;
      ASSIGN_OR_RETURN(tmpfs.void_path, VoidPathOf(t->environment_path, env.pointer));
      tmpfs.target = absl::StrCat(kStagingDir, tmpfs.void_path);
      // An inode per 4 KiB, at least 64: a full tmpfs runs out of bytes before inodes.
      tmpfs.data = absl::StrCat("mode=1777,size=", t->size_bytes,
                                ",nr_inodes=", std::max<uint64_t>(64, t->size_bytes / 4096));
      plan->landlock_rules.push_back({tmpfs.void_path, kReadWrite});
      plan->tmpfs.push_back(std::move(tmpfs));
    } else if (const auto* h = std::get_if<spec::EnvHostname>(&env.kind)) {
      plan->hostname = h->name;
    } else if (const auto* d = std::get_if<spec::EnvDomainName>(&env.kind)) {
      plan->domainname = d->name;
    } else if (std::holds_alternative<spec::EnvProcfs>(env.kind)) {
      plan->procfs = true;
    }
  }
  if (plan->hostname.size() > 64 || plan->domainname.size() > 64) {
    return absl::InvalidArgumentError(
        "hostname or domain name over 64 bytes");
  }
  plan->proc_target = absl::StrCat(kStagingDir, "/proc");
  if (plan->procfs) {
    for (const MountEntry& m : plan->mounts) {
      if (m.void_path == "/proc" || absl::StartsWith(m.void_path, "/proc/")) {
        return absl::InvalidArgumentError(
            absl::StrCat(m.what, " at ", m.void_path, " conflicts with Procfs"));
      }
    }
    plan->landlock_rules.push_back({"/proc", kReadOnly});
  }
  // A tmpfs is mounted over its path: it must not hide a bind (the binary, a library, a grant).
  for (const TmpfsEntry& t : plan->tmpfs) {
    for (const MountEntry& m : plan->mounts) {
      if (IsSameOrBeneath(m.void_path, t.void_path) || IsSameOrBeneath(t.void_path, m.void_path)) {
        return absl::InvalidArgumentError(absl::StrCat("Tmpfs at ", t.void_path,
                                                       " overlaps ", m.what, " at ", m.void_path));
      }
    }
    for (const TmpfsEntry& other : plan->tmpfs) {
      if (&other != &t && IsSameOrBeneath(other.void_path, t.void_path)) {
        return absl::InvalidArgumentError(
            absl::StrCat("Tmpfs at ", other.void_path, " overlaps Tmpfs at ", t.void_path));
      }
    }
  }
  plan->landlock_rules.insert(plan->landlock_rules.begin(), LandlockRule{"/", kReadDir});
  OrderMounts(*plan);

  // Network.
  plan->network = entrypoint.network.has_value();
  if (!plan->network) {
    absl::StatusOr<int> netns = SharedEmptyNetns();
    if (!netns.ok()) return netns.status();
    plan->empty_netns = *netns;
  }

  // Landlock.
  plan->landlock_abi = landlock::AbiVersion();
  if (plan->landlock_abi == 0 && options.require_landlock) {
    return absl::FailedPreconditionError(
        "Landlock is not available in this kernel (CONFIG_SECURITY_LANDLOCK, lsm=landlock)");
  }
  plan->landlock_fs = landlock::HandledFs(plan->landlock_abi);
  if (plan->landlock_abi >= 4 && !plan->network) {
    plan->landlock_net = landlock::kNetBindTcp | landlock::kNetConnectTcp;
  }
  if (plan->landlock_abi >= 6) {
    plan->landlock_scoped = landlock::kScopeAbstractUnixSocket | landlock::kScopeSignal;
  }

  // seccomp, capabilities, ids.
  SeccompPolicy seccomp_policy;
  seccomp_policy.network = plan->network;
  seccomp_policy.unix_sockets = entrypoint.unix_sockets;
  absl::StatusOr<std::vector<sock_filter>> filter = CompileSeccompFilter(seccomp_policy);
  if (!filter.ok()) return filter.status();
  plan->seccomp = std::move(*filter);
  ASSIGN_OR_RETURN(plan->cap_last_cap, CapLastCap());
  plan->ignored_signals = IgnoredSignals();
  plan->uid_map = absl::StrCat(options.inside_uid, " ", options.host_uid, " 1\n");
  plan->gid_map = absl::StrCat(options.inside_gid, " ", options.host_gid, " 1\n");
  if (options.kill_on_supervisor_death) {
    plan->supervisor_pidfd.reset(PidfdOpen(getpid()));
    if (!plan->supervisor_pidfd) return ErrnoStatus("pidfd_open(supervisor)");
    fcntl(plan->supervisor_pidfd.get(), F_SETFD, FD_CLOEXEC);
  }
  plan->memfd_noexec.reset(open("/proc/sys/vm/memfd_noexec", O_WRONLY | O_CLOEXEC));
  if (!plan->memfd_noexec && errno != ENOENT) {
    return ErrnoStatus("open /proc/sys/vm/memfd_noexec");
  }
  plan->template_wanted = !plan->procfs && options.mount_template;
  if (plan->template_wanted && options.mount_template_after == 0) {
    absl::StatusOr<int> fd = EnsureTemplate(*plan);
    if (!fd.ok()) return fd.status();
  }
  return std::unique_ptr<PreparedVoid>(new PreparedVoid(std::move(plan)));
}

std::vector<std::string> PreparedVoid::AutomaticBinds() const {
  std::vector<std::string> out;
  for (const DependencyBind& d : plan_->dependencies) out.push_back(d.host_path);
  return out;
}

absl::StatusOr<Instance> PreparedVoid::Spawn(const SpawnRequest& request) const {
  const Plan& plan = *plan_;
  if (request.argv.empty()) return absl::InvalidArgumentError("void spawn: empty argv");
  for (int fd : request.fds) {
    if (fd < 0) return absl::InvalidArgumentError("void spawn: a granted fd is -1");
  }
  SpawnFrame frame;
  RETURN_IF_ERROR(BuildFrame(plan, request, frame));
  ASSIGN_OR_RETURN(frame.context.template_fd, TemplateForThisSpawn(plan));
  ASSIGN_OR_RETURN(Instance instance, CloneIntoNamespaces(plan, request, frame));
  ChildGuard child(instance.pidfd.get());  // destroyed before the frame the child may still read
  RETURN_IF_ERROR(WriteIdMaps(plan, instance.pid));
  RETURN_IF_ERROR(SendGo(frame.go_write.get(), 'g'));
  if (absl::Status joined = JoinV1Cgroups(request, instance.pid, frame.go_write.get());
      !joined.ok()) {
    child.KillAndReap();
    // A child that failed meanwhile says why in its report (at EOF once reaped: never blocks).
    absl::Status reported = ReportedChildFailure(plan, frame.report_read.get());
    return reported.ok() ? joined : reported;
  }
  RETURN_IF_ERROR(AwaitExec(plan, frame, instance));
  child.Release();
  return instance;
}

}  // namespace shim::sandbox
