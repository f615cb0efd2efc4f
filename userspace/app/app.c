#define _GNU_SOURCE
#include "shim/app.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void print_usage(const char *binary, const struct shim_entrypoint *entrypoints,
                        size_t count) {
  fprintf(stderr, "usage: %s ENTRYPOINT ARGS...\nentrypoints:\n", binary);
  for (size_t i = 0; i < count; ++i) {
    fprintf(stderr, "  %s %s\n", entrypoints[i].name,
            entrypoints[i].usage != NULL ? entrypoints[i].usage : "");
  }
}

/* An entrypoint is the init (pid 1) of its void's pid namespace, and the kernel does not apply a
 * signal's default action to an init: without a handler, the supervisor's SIGTERM on shutdown is
 * ignored and the void is killed at the end of the grace period. Handlers restore the ordinary
 * behaviour; shim_serve_listener() turns them into a clean return instead. */
static volatile sig_atomic_t stop_requested = 0;
static volatile sig_atomic_t serving = 0;

static void on_stop_signal(int signal) {
  if (serving) {
    stop_requested = 1;
  } else {
    _exit(128 + signal);
  }
}

static void install_stop_handlers(void) {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0; /* no SA_RESTART: a blocked accept() returns EINTR */
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
}

int shim_dispatch(int argc, char **argv, const struct shim_entrypoint *entrypoints, size_t count) {
  const char *binary = argc > 0 ? argv[0] : "app";
  install_stop_handlers();
  if (argc < 2) {
    fprintf(stderr, "%s: no entrypoint given\n", binary);
    print_usage(binary, entrypoints, count);
    return 2;
  }
  for (size_t i = 0; i < count; ++i) {
    if (strcmp(argv[1], entrypoints[i].name) == 0) return entrypoints[i].main(argc, argv);
  }
  fprintf(stderr, "%s: unknown entrypoint '%s'\n", binary, argv[1]);
  print_usage(binary, entrypoints, count);
  return 2;
}

int shim_parse_fd(const char *word) {
  if (word == NULL || *word == '\0') {
    errno = EINVAL;
    return -1;
  }
  char *end = NULL;
  errno = 0;
  long value = strtol(word, &end, 10);
  if (errno != 0 || *end != '\0' || value < 0 || value > INT_MAX) {
    errno = EINVAL;
    return -1;
  }
  if (fcntl((int)value, F_GETFD) < 0) return -1; /* errno EBADF */
  return (int)value;
}

int shim_send_message(int pipe_tx_fd, const void *data, size_t length) {
  if (length > SHIM_MAX_MESSAGE_BYTES) {
    errno = EMSGSIZE;
    return -1;
  }
  ssize_t n;
  do {
    n = send(pipe_tx_fd, data, length, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -1 : 0;
}

int shim_send_fds(int file_socket_tx_fd, const int *fds, size_t count) {
  if (count == 0 || count > SHIM_MAX_FDS_PER_BATCH) {
    errno = EINVAL;
    return -1;
  }
  char byte = 'F'; /* SEQPACKET carries the fds with one payload byte, which the shim discards */
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * SHIM_MAX_FDS_PER_BATCH)];
  } control;
  memset(&control, 0, sizeof(control));
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * count);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * count);
  ssize_t n;
  do {
    n = sendmsg(file_socket_tx_fd, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -1 : 0;
}

static int transient_accept_error(int err) {
  switch (err) {
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case EPERM: /* a firewall verdict on one connection */
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      return 1;
    default:
      return 0;
  }
}

int shim_serve_listener(int listen_fd, int file_socket_tx_fd) {
  serving = 1;
  for (;;) {
    if (stop_requested) {
      serving = 0;
      return 0;
    }
    int connection = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (connection < 0) {
      if (errno == EINTR && stop_requested) continue;
      if (!transient_accept_error(errno)) {
        serving = 0;
        return -1;
      }
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        /* Out of a resource: back off briefly instead of spinning. */
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
      }
      continue;
    }
    int rc = shim_send_fds(file_socket_tx_fd, &connection, 1);
    int saved = errno;
    close(connection);
    if (rc != 0) {
      if (saved == ETOOMANYREFS || saved == ENOBUFS || saved == ENOMEM) {
        /* Pressure, not failure: too many fds of this user in flight (the shim is behind or out of
         * fds; the limit is RLIMIT_NOFILE) or no memory. This connection is dropped (closed
         * above); back off briefly and serve the next. */
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
        continue;
      }
      serving = 0;
      errno = saved;
      return -1;
    }
  }
}
