/* Runs inside a void (at its own host path, SELF_PATH) and tries to get out. Every check prints one line,
 *   PASS <name> <errno name>    or    FAIL <name> <what happened>
 * and the exit status is 1 when any check failed. Modes:
 *   escape SUPERVISOR_PID INHERITED_FD proc|noproc   the escape battery (needs the grants the
 *                                        e2e test sets; proc: Procfs is granted)
 *   fds                                  prints the open fds below 1024, e.g. "fds 0 1 2 3"
 *   hostname                             prints "hostname NAME domain NAME"
 *   read PATH | write PATH | exists PATH one operation, exit 0 on success, else errno
 *   sleep                                sleeps until killed
 * Built as a dynamic binary on purpose: the void must bind its loader and libc by itself. */
#define _GNU_SOURCE
/* The probe's own path, where the void shows it (set by CMake). */
#ifndef SELF_PATH
#error "SELF_PATH must be defined"
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <dirent.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/if_ether.h>
#include <grp.h>
#include <sys/ptrace.h>
#include <unistd.h>

static int failures;

static long ptrace_attach_compat(pid_t pid) { return syscall(SYS_ptrace, PTRACE_ATTACH, pid, 0, 0); }

static const char* errno_name(int e) {
  switch (e) {
    case 0: return "OK";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case EROFS: return "EROFS";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case EEXIST: return "EEXIST";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENETUNREACH: return "ENETUNREACH";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case ENOTTY: return "ENOTTY";
    case EXDEV: return "EXDEV";
    case ENOTDIR: return "ENOTDIR";
    case ELOOP: return "ELOOP";
    default: return strerror(e);
  }
}

/* `result` < 0 with errno == `expected` passes; anything else fails. */
static void expect_errno(const char* name, long result, int expected) {
  int e = errno;
  if (result < 0 && e == expected) {
    printf("PASS %s %s\n", name, errno_name(e));
  } else if (result < 0) {
    printf("FAIL %s expected %s got %s\n", name, errno_name(expected), errno_name(e));
    failures++;
  } else {
    printf("FAIL %s expected %s but it succeeded (%ld)\n", name, errno_name(expected), result);
    failures++;
  }
}

/* For checks where two layers may answer first: either errno means the way is closed. */
static void expect_errno_either(const char* name, long result, int first, int second) {
  expect_errno(name, result, result < 0 && errno == second ? second : first);
}

static void expect_ok(const char* name, long result) {
  if (result >= 0) {
    printf("PASS %s OK\n", name);
  } else {
    printf("FAIL %s expected success got %s\n", name, errno_name(errno));
    failures++;
  }
}

static void expect_true(const char* name, int ok, const char* detail) {
  printf("%s %s %s\n", ok ? "PASS" : "FAIL", name, detail);
  if (!ok) failures++;
}

static long open_close(const char* path, int flags) {
  int fd = open(path, flags | O_CLOEXEC, 0644);
  if (fd >= 0) close(fd);
  return fd;
}

static long read_file(const char* path, char* buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  long n = read(fd, buf, size - 1);
  int e = errno;
  close(fd);
  errno = e;
  if (n >= 0) buf[n] = '\0';
  return n;
}

static int escape(pid_t supervisor, int inherited_fd, int procfs) {
  char buf[4096];
  /* Host files that are not granted. */
  expect_errno("read_etc_shadow", open_close("/etc/shadow", O_RDONLY), ENOENT);
  expect_errno("read_etc_passwd", open_close("/etc/passwd", O_RDONLY), ENOENT);
  expect_errno("list_root_home", open_close("/root", O_RDONLY | O_DIRECTORY), ENOENT);
  expect_errno("read_host_binary", open_close("/usr/bin/env", O_RDONLY), ENOENT);
  if (procfs) {
    /* /proc is the void's own: pid 1 is this probe, no host pid exists. */
    expect_ok("read_proc1_environ_is_own", read_file("/proc/1/environ", buf, sizeof buf));
    long n = readlink("/proc/1/exe", buf, sizeof buf - 1);
    if (n >= 0) buf[n] = '\0';
    expect_true("proc1_is_the_void", n >= 0 && strcmp(buf, SELF_PATH) == 0, n >= 0 ? buf : "?");
    DIR* d = opendir("/proc");
    int pids = 0, others = 0;
    struct dirent* e;
    while (d && (e = readdir(d)) != NULL) {
      if (e->d_name[0] >= '0' && e->d_name[0] <= '9') {
        if (atoi(e->d_name) == 1) pids++; else others++;
      }
    }
    if (d) closedir(d);
    snprintf(buf, sizeof buf, "own=%d other=%d", pids, others);
    expect_true("host_pids_invisible", d != NULL && pids == 1 && others == 0, buf);
    expect_errno("write_proc_sys", open_close("/proc/sys/kernel/hostname", O_WRONLY), EACCES);
    expect_errno("write_proc_sys_kernel_core_pattern",
                 open_close("/proc/sys/kernel/core_pattern", O_WRONLY), EACCES);
  } else {
    expect_errno("read_proc1_environ", open_close("/proc/1/environ", O_RDONLY), ENOENT);
    expect_errno("write_proc_sys", open_close("/proc/sys/kernel/hostname", O_WRONLY), ENOENT);
    expect_errno("no_proc_at_all", open_close("/proc", O_RDONLY | O_DIRECTORY), ENOENT);
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/environ", (int)supervisor);
  expect_errno("read_supervisor_environ", open_close(path, O_RDONLY), ENOENT);
  /* Grants: read-only means read-only; nothing outside grants can be created. */
  expect_ok("read_ro_grant", read_file("/ro/file", buf, sizeof buf));
  expect_errno("write_ro_grant", open_close("/ro/file", O_WRONLY), EROFS);
  expect_errno("create_in_ro_grant", open_close("/ro/new", O_WRONLY | O_CREAT), EROFS);
  expect_errno("create_in_root", open_close("/evil", O_WRONLY | O_CREAT), EROFS);
  expect_errno("mkdir_in_root", mkdir("/evil", 0755), EROFS);
  expect_errno("write_binary", open_close(SELF_PATH, O_WRONLY), EACCES);
  expect_ok("write_rw_grant", open_close("/rw/created", O_WRONLY | O_CREAT));
  expect_errno("exec_from_rw_grant", execve("/rw/created", (char* const[]){"x", NULL},
                                            (char* const[]){NULL}), EACCES);
  expect_errno("mknod_device_in_rw_grant", mknod("/rw/null", S_IFCHR | 0666, makedev(1, 3)), EACCES);
  /* Symlinks and .. resolve inside the void, never on the host. */
  expect_errno("symlink_planted_by_host", open_close("/rw/to_etc/shadow", O_RDONLY), ENOENT);
  expect_ok("symlink_create", symlink("/etc/shadow", "/rw/shadow_link"));
  expect_errno("symlink_follow_absolute", open_close("/rw/shadow_link", O_RDONLY), ENOENT);
  expect_ok("symlink_create_relative", symlink("../../../../../etc/shadow", "/rw/rel_link"));
  expect_errno("symlink_follow_relative", open_close("/rw/rel_link", O_RDONLY), ENOENT);
  expect_errno("dotdot_escape", open_close("/ro/../../../../etc/shadow", O_RDONLY), ENOENT);
  expect_errno("hardlink_binary_into_rw", link(SELF_PATH, "/rw/entry"), EXDEV);
  /* Mounts and namespaces. */
  expect_errno("mount_tmpfs", mount("none", "/rw", "tmpfs", 0, NULL), EPERM);
  expect_errno("remount_ro_grant_rw", mount(NULL, "/ro", NULL, MS_REMOUNT | MS_BIND, NULL), EPERM);
  expect_errno("umount_grant", umount2("/ro", MNT_DETACH), EPERM);
  expect_errno("pivot_root", syscall(SYS_pivot_root, "/rw", "/rw"), EPERM);
  expect_errno("chroot", chroot("/rw"), EPERM);
  expect_errno("unshare_user", unshare(CLONE_NEWUSER), EPERM);
  expect_errno("unshare_mount", unshare(CLONE_NEWNS), EPERM);
  {
    int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    expect_errno("setns", setns(ns, 0), EPERM);
    if (ns >= 0) close(ns);
  }
  expect_errno("clone_newuser", syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), EPERM);
  expect_errno("clone_newns_without_caps", syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0), EPERM);
  expect_errno("clone3_hidden", syscall(SYS_clone3, NULL, 0), ENOSYS);
  /* The supervisor is out of reach. */
  expect_errno("ptrace_supervisor", ptrace_attach_compat(supervisor), EPERM);
  expect_errno("kill_supervisor", kill(supervisor, SIGKILL), ESRCH);
  expect_errno("pidfd_open_supervisor", syscall(SYS_pidfd_open, supervisor, 0), ESRCH);
  expect_errno("inherited_fd_closed", fcntl(inherited_fd, F_GETFD), EBADF);
  /* Kernel interfaces. */
  {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    expect_errno("bpf_map_create", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr), EPERM);
  }
  expect_errno("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), EPERM);
  expect_errno("add_key", syscall(SYS_add_key, "user", "x", "y", 1, KEY_SPEC_PROCESS_KEYRING), EPERM);
  {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    expect_errno("perf_event_open", syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0), EPERM);
  }
  expect_errno("userfaultfd", syscall(SYS_userfaultfd, 0), EPERM);
  expect_errno("io_uring_setup", syscall(SYS_io_uring_setup, 1, buf), EPERM);
  expect_errno("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, buf, 0), EPERM);
  expect_errno("init_module", syscall(SYS_init_module, buf, 0, ""), EPERM);
  expect_errno("reboot", syscall(SYS_reboot, 0, 0, 0, NULL), EPERM);
  /* Network. */
  expect_errno("socket_raw", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
  expect_errno("socket_packet", socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), EPERM);
  expect_errno("socket_netlink", socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), EPERM);
  expect_errno("socket_tcp_no_grant", socket(AF_INET, SOCK_STREAM, 0), EPERM);
  expect_errno("socket_udp6_no_grant", socket(AF_INET6, SOCK_DGRAM, 0), EPERM);
  {
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    /* The host side listens on this name, made unique by its pid (several batteries may run at
     * once). */
    char name[64];
    const int length = snprintf(name, sizeof name, "shim-void-escape-probe-%d", (int)supervisor);
    memcpy(addr.sun_path + 1, name, (size_t)length);
    /* ECONNREFUSED: the name does not exist in the void's network namespace; EPERM: the run's
     * eBPF unix-socket hook (under shim-bpf run) or the Landlock scope refused it first. */
    expect_errno_either("connect_host_abstract_unix",
                        connect(s, (struct sockaddr*)&addr,
                                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + length)),
                        ECONNREFUSED, EPERM);
    close(s);
  }
  /* Identity and privilege. */
  expect_errno("setuid_0", setuid(0), EINVAL);
  expect_errno("setresuid_host_root", setresuid(0, 0, 0), EINVAL);
  expect_errno("setgid_0", setgid(0), EINVAL);
  expect_errno("setgroups", setgroups(0, NULL), EPERM);
  expect_true("no_supplementary_groups", getgroups(0, NULL) == 0, "");
  {
    /* Asked of the kernel directly: /proc may not exist. */
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0xff, sizeof data);
    long rc = syscall(SYS_capget, &header, data);
    expect_true("no_effective_caps", rc == 0 && data[0].effective == 0 && data[1].effective == 0, "");
    expect_true("no_permitted_caps", rc == 0 && data[0].permitted == 0 && data[1].permitted == 0, "");
    expect_true("no_inheritable_caps",
                rc == 0 && data[0].inheritable == 0 && data[1].inheritable == 0, "");
    int bounding = 0;
    for (int cap = 0; cap < 64; cap++) {
      if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) bounding++;
    }
    expect_true("empty_bounding_set", bounding == 0, "");
    expect_true("no_ambient_caps", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 21, 0, 0) == 0, "");
  }
  expect_true("seccomp_filtered", prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2, "");
  expect_true("no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "");
  expect_errno("exec_setuid_binary", execve("/su", (char* const[]){"su", NULL},
                                           (char* const[]){NULL}), EACCES);
  /* Kernel tunables and the host's identity. */
  expect_errno("write_sys", open_close("/sys/kernel/uevent_helper", O_WRONLY), ENOENT);
  expect_errno("sethostname", sethostname("evil", 4), EPERM);
  expect_errno("tiocsti", ioctl(0, TIOCSTI, "x"), EPERM);
  expect_ok("write_dev_null", open_close("/dev/null", O_WRONLY));
  expect_errno("signal_outside_domain_via_pid1_parent", kill(-1, 0), ESRCH);
  fflush(stdout);
  return failures == 0 ? 0 : 1;
}

/* With a network grant: ordinary sockets work, raw/packet/exotic ones never; PORT on 127.0.0.1
 * of the host accepts a connection. */
static int network_granted(int port) {
  long s;
  expect_ok("tcp_socket", s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s >= 0) expect_ok("connect_host_loopback", connect(s, (struct sockaddr*)&addr, sizeof addr));
  expect_ok("udp6_socket", socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  expect_ok("netlink_route_socket", socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  expect_errno("netlink_audit_socket", socket(AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */), EPERM);
  expect_errno("raw_socket", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
  expect_errno("raw6_socket_nonblock", socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK, 58), EPERM);
  expect_errno("packet_socket", socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)), EPERM);
  expect_errno("key_socket", socket(15 /* AF_KEY */, SOCK_RAW, 2), EPERM);
  expect_errno("alg_socket", socket(38 /* AF_ALG */, SOCK_SEQPACKET, 0), EPERM);
  expect_errno("vsock_socket", socket(40 /* AF_VSOCK */, SOCK_STREAM, 0), EPERM);
  expect_errno("future_family_socket", socket(100, SOCK_STREAM, 0), EPERM);
  return failures == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc >= 5 && strcmp(argv[1], "escape") == 0) {
    return escape(atoi(argv[2]), atoi(argv[3]), strcmp(argv[4], "proc") == 0);
  }
  if (argc >= 3 && strcmp(argv[1], "network") == 0) return network_granted(atoi(argv[2]));
  if (argc >= 2 && strcmp(argv[1], "fds") == 0) {
    printf("fds");
    for (int fd = 0; fd < 1024; fd++) {
      if (fcntl(fd, F_GETFD) >= 0) printf(" %d", fd);
    }
    printf("\n");
    return 0;
  }
  if (argc >= 2 && strcmp(argv[1], "hostname") == 0) {
    struct utsname u;
    uname(&u);
    printf("hostname %s domain %s\n", u.nodename, u.domainname);
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "read") == 0) {
    char buf[4096];
    long n = read_file(argv[2], buf, sizeof buf);
    if (n < 0) return errno;
    fwrite(buf, 1, n, stdout);
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "write") == 0) {
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    if (write(fd, "written\n", 8) != 8) return errno;
    close(fd);
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "exists") == 0) {
    struct stat st;
    return stat(argv[2], &st) == 0 ? 0 : errno;
  }
  if (argc >= 2 && strcmp(argv[1], "sleep") == 0) {
    printf("sleeping\n");
    for (;;) pause();
  }
  if (argc >= 2 && strcmp(argv[1], "echo-fd3") == 0) {
    /* Copies granted fd 3 to stdout. */
    char buf[256];
    long n = read(3, buf, sizeof buf);
    if (n < 0) return errno;
    fwrite(buf, 1, n, stdout);
    return 0;
  }
  fprintf(stderr, "usage: escape_probe escape|fds|hostname|read|write|exists|sleep|echo-fd3 ...\n");
  return 2;
}
