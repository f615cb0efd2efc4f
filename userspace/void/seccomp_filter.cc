#include "void/seccomp_filter.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/unique_fd.h"

namespace shim::sandbox {
namespace {

// x86_64 numbers of calls newer than libseccomp 2.5's tables.
constexpr int kFchmodat2X86_64 = 452;
constexpr int kStatmountX86_64 = 457;
constexpr int kListmountX86_64 = 458;

// Denied whole, with EPERM. Loading costs about a microsecond per filter instruction on every
// spawn, so calls that need a capability the void no longer has (setting the clock, quotas, I/O
// ports, vhangup...) are left to the capability check; what is listed is either usable without a
// capability or dangerous enough (Docker's default denials) to deny twice.
constexpr const char* kDenied[] = {
    // Filesystem and namespace manipulation: a void's view is fixed before exec.
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "open_by_handle_at",
    "name_to_handle_at",
    // Other processes and the kernel itself.
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "keyctl",
    "add_key",
    "request_key",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "acct",
    "swapon",
    "swapoff",
    "reboot",
    "syslog",
    "uselib",
    "fanotify_init",
    // Identity: setgroups (CAP_SETGID is gone too), the void's own names.
    "setgroups",
    "sethostname",
    "setdomainname",
};

}  // namespace

absl::StatusOr<std::vector<sock_filter>> CompileSeccompFilter(const SeccompPolicy& policy) {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_ALLOW),
                                                       seccomp_release);
  if (!ctx) return absl::InternalError("seccomp_init failed");
  // A binary tree over syscall numbers instead of libseccomp's default linear chain. When a
  // filter is attached, the kernel emulates it once per syscall number to build its action cache
  // (with interrupts off, under the signal lock); over a linear chain that emulation walked every
  // rule for every allowed syscall and was the largest single cost of a warm spawn.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc < 0) {
    return ErrnoStatus("seccomp: binary-tree optimization", -rc);
  }
  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  auto add_rule = [&](int nr, absl::string_view what, uint32_t action, unsigned count,
                      const scmp_arg_cmp* args) -> absl::Status {
    int rc = seccomp_rule_add_array(ctx.get(), action, nr, count, args);
    if (rc < 0) return ErrnoStatus(absl::StrCat("seccomp rule for ", what), -rc);
    return absl::OkStatus();
  };
  auto add = [&](const char* name, uint32_t action, unsigned count,
                 const scmp_arg_cmp* args) -> absl::Status {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return absl::OkStatus();  // unknown on this arch: nothing to deny
    return add_rule(nr, name, action, count, args);
  };
  for (const char* name : kDenied) {
    if (absl::Status s = add(name, eperm, 0, nullptr); !s.ok()) return s;
  }
  // clone3 passes its flags in memory seccomp cannot read: make libc fall back to clone.
  if (absl::Status s = add("clone3", SCMP_ACT_ERRNO(ENOSYS), 0, nullptr); !s.ok()) return s;
  // clone with CLONE_NEWUSER: the only namespace flag that works without capabilities (a new user
  // namespace grants them for the others), so denying it denies them all; each extra rule costs
  // every spawn a little more time to load the filter.
  {
    scmp_arg_cmp cmp = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
    if (absl::Status s = add("clone", eperm, 1, &cmp); !s.ok()) return s;
  }
  // Calls libseccomp 2.5 cannot name yet (Linux >= 6.6), by their x86_64 numbers.
  auto add_nr = [&](int nr, uint32_t action, unsigned count,
                    const scmp_arg_cmp* args) -> absl::Status {
    if (seccomp_arch_native() != SCMP_ARCH_X86_64) return absl::OkStatus();
    return add_rule(nr, absl::StrCat("syscall ", nr), action, count, args);
  };
  // statmount and listmount show every mount of the host's namespaces with its host path, which
  // the void's /proc (when granted) deliberately does not.
  for (int nr : {kStatmountX86_64, kListmountX86_64}) {
    if (absl::Status s = add_nr(nr, eperm, 0, nullptr); !s.ok()) return s;
  }
  // The void must die with its supervisor: PR_SET_PDEATHSIG is set to SIGKILL before exec, and
  // the entrypoint may not change it (as pid 1 of its namespace, any other signal it chose would
  // be ignored). Setting SIGKILL again stays possible, for programs that set it for themselves.
  {
    scmp_arg_cmp cmp[2] = {SCMP_A0(SCMP_CMP_EQ, PR_SET_PDEATHSIG), SCMP_A1(SCMP_CMP_NE, SIGKILL)};
    if (absl::Status s = add("prctl", eperm, 2, cmp); !s.ok()) return s;
  }
  // No setuid or setgid file is made in a writable grant: it would be setuid to the void's host
  // uid for any host user who runs it (the grants are nosuid only inside the void). Where the
  // mode holds permission bits only (chmod and friends, creating opens), "mode >= S_ISGID" is one
  // comparison for both bits (higher bits, which the kernel ignores there, are refused too);
  // openat runs through these on every call, so every comparison saved is paid back many times
  // per spawn. mknod's mode carries the file type above them, so its bits are tested one by one.
  static_assert(S_ISUID > S_ISGID && S_ISGID > S_ISVTX && S_ISVTX > 0777);
  {
    const scmp_arg_cmp a1 = SCMP_A1(SCMP_CMP_GE, S_ISGID);
    const scmp_arg_cmp a2 = SCMP_A2(SCMP_CMP_GE, S_ISGID);
    for (const char* name : {"chmod", "fchmod", "creat"}) {
      if (absl::Status s = add(name, eperm, 1, &a1); !s.ok()) return s;
    }
    if (absl::Status s = add("fchmodat", eperm, 1, &a2); !s.ok()) return s;
    if (absl::Status s = add_nr(kFchmodat2X86_64, eperm, 1, &a2); !s.ok()) return s;
    // open(path, flags, mode) and openat(dirfd, path, flags, mode) with O_CREAT or O_TMPFILE.
    for (uint64_t create : {static_cast<uint64_t>(O_CREAT), static_cast<uint64_t>(__O_TMPFILE)}) {
      scmp_arg_cmp open_cmp[2] = {SCMP_A1(SCMP_CMP_MASKED_EQ, create, create), a2};
      if (absl::Status s = add("open", eperm, 2, open_cmp); !s.ok()) return s;
      scmp_arg_cmp openat_cmp[2] = {SCMP_A2(SCMP_CMP_MASKED_EQ, create, create),
                                    SCMP_A3(SCMP_CMP_GE, S_ISGID)};
      if (absl::Status s = add("openat", eperm, 2, openat_cmp); !s.ok()) return s;
    }
  }
  for (uint64_t bit : {static_cast<uint64_t>(S_ISUID), static_cast<uint64_t>(S_ISGID)}) {
    const scmp_arg_cmp a1 = SCMP_A1(SCMP_CMP_MASKED_EQ, bit, bit);
    const scmp_arg_cmp a2 = SCMP_A2(SCMP_CMP_MASKED_EQ, bit, bit);
    if (absl::Status s = add("mknod", eperm, 1, &a1); !s.ok()) return s;
    if (absl::Status s = add("mknodat", eperm, 1, &a2); !s.ok()) return s;
  }
  // openat2 passes its mode in memory seccomp cannot read: ENOSYS makes callers fall back to
  // openat (glibc's open never uses it).
  if (absl::Status s = add("openat2", SCMP_ACT_ERRNO(ENOSYS), 0, nullptr); !s.ok()) return s;
  // Terminal input injection through an inherited tty (stdin/stdout of the host), and taking a
  // terminal as the controlling one (the void runs in a session of its own, without one).
  for (uint64_t request : {static_cast<uint64_t>(TIOCSTI), static_cast<uint64_t>(TIOCLINUX),
                           static_cast<uint64_t>(TIOCSCTTY)}) {
    scmp_arg_cmp cmp = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, request);
    if (absl::Status s = add("ioctl", eperm, 1, &cmp); !s.ok()) return s;
  }
  // Unix sockets of the void's own (SeccompPolicy::unix_sockets). Stream and seqpacket pairs
  // (channels, self-pipes) stay: a bound end of a connected pair can never be connected to.
  if (!policy.unix_sockets) {
    scmp_arg_cmp unix_socket = SCMP_A0(SCMP_CMP_EQ, AF_UNIX);
    if (absl::Status s = add("socket", eperm, 1, &unix_socket); !s.ok()) return s;
    scmp_arg_cmp dgram_pair[2] = {SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
                                  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM)};
    if (absl::Status s = add("socketpair", eperm, 2, dgram_pair); !s.ok()) return s;
  }
  // Socket families.
  if (!policy.network) {
    for (const char* name : {"socket", "socketpair"}) {
      scmp_arg_cmp cmp = SCMP_A0(SCMP_CMP_NE, AF_UNIX);
      if (absl::Status s = add(name, eperm, 1, &cmp); !s.ok()) return s;
    }
  } else {
    // An allowlist (AF_UNIX, AF_INET, AF_INET6, AF_NETLINK): every other value below AF_NETLINK
    // is denied one by one, anything above it (including garbage in the upper bits of the
    // register, which the kernel would ignore) by one comparison.
    static_assert(AF_UNIX == 1 && AF_INET == 2 && AF_INET6 == 10 && AF_NETLINK == 16);
    for (uint64_t family = 0; family < AF_NETLINK; ++family) {
      if (family == AF_UNIX || family == AF_INET || family == AF_INET6) continue;
      scmp_arg_cmp cmp = SCMP_A0(SCMP_CMP_EQ, family);
      if (absl::Status s = add("socket", eperm, 1, &cmp); !s.ok()) return s;
    }
    scmp_arg_cmp above = SCMP_A0(SCMP_CMP_GT, AF_NETLINK);
    if (absl::Status s = add("socket", eperm, 1, &above); !s.ok()) return s;
    // Netlink: only NETLINK_ROUTE (getaddrinfo's address-configuration query).
    scmp_arg_cmp netlink[2] = {SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
                               SCMP_A2(SCMP_CMP_NE, NETLINK_ROUTE)};
    if (absl::Status s = add("socket", eperm, 2, netlink); !s.ok()) return s;
    // Raw IP sockets (they need CAP_NET_RAW on the host anyway); netlink is SOCK_RAW by nature.
    for (uint64_t family : {AF_INET, AF_INET6}) {
      for (uint64_t type : {SOCK_RAW, SOCK_PACKET}) {
        scmp_arg_cmp cmp[2] = {SCMP_A0(SCMP_CMP_EQ, family),
                               SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, type)};
        if (absl::Status s = add("socket", eperm, 2, cmp); !s.ok()) return s;
      }
    }
  }
  // Export the program through a memfd (libseccomp 2.5 has no export-to-memory).
  UniqueFd mem(memfd_create("seccomp", MFD_CLOEXEC));
  if (!mem) return ErrnoStatus("memfd_create for seccomp export");
  if (int rc = seccomp_export_bpf(ctx.get(), mem.get()); rc < 0) {
    return ErrnoStatus("seccomp_export_bpf", -rc);
  }
  off_t size = lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0) {
    return absl::InternalError("seccomp_export_bpf produced no program");
  }
  std::vector<sock_filter> program(size / sizeof(sock_filter));
  if (pread(mem.get(), program.data(), size, 0) != size) return ErrnoStatus("read seccomp program");
  return program;
}

}  // namespace shim::sandbox
