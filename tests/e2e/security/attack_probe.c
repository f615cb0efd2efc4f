/* Attacks on the root supervisor from inside a void (tests/e2e/security). argv[1] picks one; each
 * prints what it observed, one fact per line, so that the test can check both the attack's
 * failure and its control's success.
 *
 * It finds itself at SELF_PATH: a void shows its binary at the binary's own host path. */
#define _GNU_SOURCE
/* The probe's own path, where the void shows it (set by CMake). */
#ifndef SELF_PATH
#error "SELF_PATH must be defined"
#endif
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
}

/* "ok" or the errno name of a result. */
static const char* outcome(long rc) {
  if (rc >= 0) return "ok";
  switch (errno) {
    case EPERM:
      return "EPERM";
    case EACCES:
      return "EACCES";
    case ENOTTY:
      return "ENOTTY";
    case ENOSYS:
      return "ENOSYS";
    case EINVAL:
      return "EINVAL";
    case ENOENT:
      return "ENOENT";
    case ECONNREFUSED:
      return "ECONNREFUSED";
    case EROFS:
      return "EROFS";
    default:
      return strerror(errno);
  }
}

/* Prints the first line of what fd holds. */
static int read_fd(int fd) {
  char buf[256];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (n < 0) {
    printf("read: %s\n", outcome(-1));
    return 1;
  }
  buf[n] = 0;
  char* nl = strchr(buf, '\n');
  if (nl) *nl = 0;
  printf("read: [%s]\n", buf);
  return 0;
}

/* Lists a folder's entries on one line, sorted by the kernel's order. */
static int list_dir(const char* path) {
  DIR* d = opendir(path);
  if (!d) {
    printf("list %s: %s\n", path, outcome(-1));
    return 1;
  }
  printf("list %s:", path);
  for (struct dirent* e; (e = readdir(d)) != NULL;) {
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) printf(" %s", e->d_name);
  }
  printf("\n");
  closedir(d);
  return 0;
}

static void wait_for_file(const char* path, long timeout_ms) {
  for (long waited = 0; waited < timeout_ms && access(path, F_OK) != 0; waited += 20) sleep_ms(20);
}

static int send_one(int fd, const char* message) {
  if (send(fd, message, strlen(message), 0) < 0) {
    printf("send: %s\n", outcome(-1));
    return 1;
  }
  return 0;
}

static int send_fds(int channel, const int* fds, int count) {
  char control[CMSG_SPACE(sizeof(int) * 128)];
  memset(control, 0, sizeof control);
  char byte = 'x';
  struct iovec iov = {&byte, 1};
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * count);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * count);
  long rc = sendmsg(channel, &msg, 0);
  printf("send_fds %d: %s\n", count, outcome(rc));
  return rc < 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* mode = argc > 1 ? argv[1] : "";

  /* read-fd N: what a File arg (or any fd) holds; list-data: the entries of /data. */
  if (strcmp(mode, "read-fd") == 0 && argc > 2) return read_fd(atoi(argv[2]));
  if (strcmp(mode, "list-data") == 0) return list_dir("/data");

  /* send-when PIPE...: sends "one" on every pipe, waits (10 s at most) for /flag/go to exist,
   * then sends "two" on every pipe. */
  if (strcmp(mode, "send-when") == 0 && argc > 2) {
    for (int i = 2; i < argc; ++i) {
      if (send_one(atoi(argv[i]), "one")) return 1;
    }
    wait_for_file("/flag/go", 10000);
    for (int i = 2; i < argc; ++i) {
      if (send_one(atoi(argv[i]), "two")) return 1;
    }
    printf("send-when: sent\n");
    return 0;
  }

  /* linger-batch FILESOCKET PORT: a TCP socket to 127.0.0.1:PORT (a peer that never reads) with
   * unsent data and SO_LINGER 60 s, sent 65 times in one batch: more than a batch may carry, so
   * the supervisor refuses it and its last close of the socket would wait for the linger. */
  if (strcmp(mode, "linger-batch") == 0 && argc > 3) {
    const int channel = atoi(argv[2]);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    setsockopt(s, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(argv[3]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    printf("connect: %s\n", outcome(connect(s, (struct sockaddr*)&a, sizeof a)));
    fcntl(s, F_SETFL, O_NONBLOCK);
    static char junk[65536];
    long total = 0;
    for (int i = 0; i < 4096; ++i) {
      ssize_t n = send(s, junk, sizeof junk, 0);
      if (n <= 0) break;
      total += n;
    }
    struct linger l = {1, 60};
    setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    printf("queued %ld bytes, linger 60 s\n", total);
    int fds[65];
    for (int i = 0; i < 65; ++i) fds[i] = s;
    send_fds(channel, fds, 65);
    close(s); /* only the supervisor's copies are left */
    printf("linger-batch: sent\n");
    sleep_ms(60000);
    return 0;
  }

  /* send-self FILESOCKET: the channel's own Tx end in a batch; send-null FILESOCKET: /dev/null. */
  if ((strcmp(mode, "send-self") == 0 || strcmp(mode, "send-null") == 0) && argc > 2) {
    const int channel = atoi(argv[2]);
    int fd = strcmp(mode, "send-self") == 0 ? channel : open("/dev/null", O_RDONLY);
    int rc = send_fds(channel, &fd, 1);
    sleep_ms(500); /* let the supervisor take it before this void's end closes the channel */
    return rc;
  }

  /* pdeathsig: try to outlive the supervisor. */
  if (strcmp(mode, "pdeathsig") == 0) {
    printf("reset to 0: %s\n", outcome(prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0)));
    printf("set SIGTERM: %s\n", outcome(prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0)));
    printf("set SIGKILL: %s\n", outcome(prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)));
    int sig = -1;
    prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
    printf("pdeathsig now %d\n", sig);
    /* A child too, as pid 1's descendants would be after pid 1 moved on. */
    if (fork() == 0) {
      sleep_ms(600000);
      _exit(0);
    }
    printf("sleeping\n");
    sleep_ms(600000);
    return 0;
  }

  /* tty: try to take the terminal on stdin from the operator. */
  if (strcmp(mode, "tty") == 0) {
    printf("isatty: %d\n", isatty(0));
    printf("session leader: %s\n", getsid(0) == getpid() ? "yes" : "no");
    printf("tcsetpgrp: %s\n", outcome(tcsetpgrp(0, getpgrp())));
    printf("TIOCSCTTY: %s\n", outcome(ioctl(0, TIOCSCTTY, 0)));
    char c = 'x';
    printf("TIOCSTI: %s\n", outcome(ioctl(0, TIOCSTI, &c)));
    printf("tty: holding\n");
    sleep_ms(600000);
    return 0;
  }

  /* setuid: setuid/setgid files in the writable grant /rw, and the controls. */
  if (strcmp(mode, "setuid") == 0) {
    char path[512];
    snprintf(path, sizeof path, "/rw/plain");
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    printf("create plain: %s\n", outcome(fd));
    close(fd);
    printf("chmod 0755: %s\n", outcome(chmod(path, 0755)));
    printf("chmod 04755: %s\n", outcome(chmod(path, 04755)));
    printf("chmod 02755: %s\n", outcome(chmod(path, 02755)));
    printf("fchmodat 06755: %s\n", outcome(fchmodat(AT_FDCWD, path, 06755, 0)));
    fd = open(path, O_RDONLY);
    printf("fchmod 04755: %s\n", outcome(fchmod(fd, 04755)));
    close(fd);
    printf("fchmodat2 04755: %s\n", outcome(syscall(452, AT_FDCWD, path, 04755, 0)));
    snprintf(path, sizeof path, "/rw/created-suid");
    printf("open O_CREAT 04755: %s\n", outcome(open(path, O_CREAT | O_WRONLY, 04755)));
    printf("openat O_CREAT 02755: %s\n",
           outcome(openat(AT_FDCWD, path, O_CREAT | O_WRONLY, 02755)));
    printf("creat 04755: %s\n", outcome(creat(path, 04755)));
    printf("mknod S_IFREG|04755: %s\n", outcome(mknod(path, S_IFREG | 04755, 0)));
    return 0;
  }

  /* memfd: fileless execution, and the control (a memfd as plain memory). */
  if (strcmp(mode, "memfd") == 0) {
    int m = (int)syscall(SYS_memfd_create, "payload", MFD_CLOEXEC);
    printf("memfd_create: %s\n", outcome(m));
    int self = open(SELF_PATH, O_RDONLY);
    char buf[65536];
    ssize_t n, total = 0;
    while ((n = read(self, buf, sizeof buf)) > 0) total += write(m, buf, (size_t)n);
    printf("copied self: %s\n", total > 0 ? "ok" : "failed");
    char back[4] = {0};
    printf("read back: %s\n",
           pread(m, back, 4, 0) == 4 && memcmp(back, "\177ELF", 4) == 0 ? "ok" : "failed");
    printf("memfd MFD_EXEC: %s\n", outcome(syscall(SYS_memfd_create, "x", 0x10U)));
    printf("fchmod +x: %s\n", outcome(fchmod(m, 0755)));
    char* const args[] = {"payload", "read-fd", "0", NULL};
    char* const env[] = {NULL};
    syscall(SYS_execveat, m, "", args, env, AT_EMPTY_PATH);
    printf("execveat memfd: %s\n", outcome(-1));
    return 0;
  }

  /* mounts: statmount/listmount show the host's mount paths. */
  if (strcmp(mode, "mounts") == 0) {
    struct {
      unsigned size, spare;
      unsigned long long mnt_id, param, mnt_ns_id;
    } req = {32, 0, 0x1 /* LSMT_ROOT */, 0, 0};
    unsigned long long ids[16];
    printf("listmount: %s\n", outcome(syscall(458, &req, ids, 16, 0)));
    char big[4096];
    printf("statmount: %s\n", outcome(syscall(457, &req, big, sizeof big, 0)));
    printf("getpid: %s\n", outcome(getpid()));
    return 0;
  }

  /* evil-comm PORT: a process name with a newline and an escape sequence, then a denied connect
   * to 127.0.0.1:PORT, which the supervisor reports on its stderr. */
  if (strcmp(mode, "evil-comm") == 0 && argc > 2) {
    prctl(PR_SET_NAME, "\nshim-bpf: ok\x1b[", 0, 0, 0);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) printf("socket: %s\n", outcome(s)); /* refused at creation: reported as well */
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(argv[2]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    printf("connect: %s\n", outcome(connect(s, (struct sockaddr*)&a, sizeof a)));
    sleep_ms(1500); /* the supervisor drains denials at least once a second */
    return 0;
  }

  /* unix-sockets NAME: the unix sockets a networked void could make, and an abstract listener
   * on @NAME (in the host's network namespace) if one could be made; held 3 s for a host client. */
  if (strcmp(mode, "unix-sockets") == 0 && argc > 2) {
    int pair[2];
    printf("socketpair stream: %s\n", outcome(socketpair(AF_UNIX, SOCK_STREAM, 0, pair)));
    printf("socketpair seqpacket: %s\n", outcome(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair)));
    printf("socketpair dgram: %s\n", outcome(socketpair(AF_UNIX, SOCK_DGRAM, 0, pair)));
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("socket unix: %s\n", outcome(s));
    printf("socket inet: %s\n", outcome(socket(AF_INET, SOCK_STREAM, 0)));
    if (s >= 0) {
      struct sockaddr_un a = {.sun_family = AF_UNIX};
      const size_t length = strlen(argv[2]);
      memcpy(a.sun_path + 1, argv[2], length);
      long rc = bind(s, (struct sockaddr*)&a,
                     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + length));
      if (rc == 0) rc = listen(s, 4);
      printf("abstract listen: %s\n", outcome(rc));
    }
    printf("unix-sockets: holding\n");
    sleep_ms(3000);
    return 0;
  }

  /* exec-rw: runs a copy of itself written into the writable grant /rw. */
  if (strcmp(mode, "exec-rw") == 0) {
    int self = open(SELF_PATH, O_RDONLY);
    int copy = open("/rw/copy", O_CREAT | O_TRUNC | O_WRONLY, 0755);
    char buf[65536];
    ssize_t n;
    while ((n = read(self, buf, sizeof buf)) > 0) (void)!write(copy, buf, (size_t)n);
    close(copy);
    char* const args[] = {"copy", "read-fd", "0", NULL};
    char* const env[] = {NULL};
    execve("/rw/copy", args, env);
    printf("execve /rw/copy: %s\n", outcome(-1));
    return 0;
  }

  /* connect-ro: a host daemon's unix socket in the read-only grant /ro. */
  if (strcmp(mode, "connect-ro") == 0) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("socket unix: %s\n", outcome(s));
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, "/ro/sock");
    if (s >= 0)
      printf("connect /ro/sock: %s\n", outcome(connect(s, (struct sockaddr*)&a, sizeof a)));
    return 0;
  }

  fprintf(stderr, "attack_probe: unknown mode %s\n", mode);
  return 2;
}
