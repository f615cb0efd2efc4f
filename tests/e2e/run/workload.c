/* A test program run inside voids by the run e2e tests. argv[1] picks what it does (the spec's
 * Entrypoint arg, or a Trailing word); each mode prints what it observed, one fact per line. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
}

static volatile sig_atomic_t terminated = 0;
static void on_term(int signal) {
  (void)signal;
  terminated = 1;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "exit") == 0 && argc > 2) return atoi(argv[2]);
  if (strcmp(mode, "print") == 0 || strcmp(mode, "handler") == 0) {
    /* One line with every remaining word, so tests can check exact payloads. */
    printf("%s:", mode);
    for (int i = 2; i < argc; ++i) printf(" [%s]", argv[i]);
    printf("\n");
    return 0;
  }
  if (strcmp(mode, "sleep") == 0 && argc > 2) {
    sleep_ms(atol(argv[2]));
    return 0;
  }
  if (strcmp(mode, "graceful") == 0 && argc > 2) {
    /* Finishes its work (argv[2] ms) even when asked to stop, then exits 0. */
    signal(SIGTERM, on_term);
    /* Tells the test the handler is in place: a SIGTERM before it would be ignored, since
       the void's init has the default disposition. */
    printf("graceful: ready\n");
    sleep_ms(atol(argv[2]));
    printf("graceful: finished (terminated=%d)\n", (int)terminated);
    return 0;
  }
  if (strcmp(mode, "alloc") == 0 && argc > 2) {
    size_t bytes = (size_t)atol(argv[2]) << 20;
    char* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      printf("alloc: mmap failed: %s\n", strerror(errno));
      return 1;
    }
    for (size_t i = 0; i < bytes; i += 4096) p[i] = 1;
    printf("alloc: touched %s MiB\n", argv[2]);
    return 0;
  }
  if (strcmp(mode, "forkbomb") == 0 && argc > 2) {
    int wanted = atoi(argv[2]), made = 0, failed_errno = 0;
    for (int i = 0; i < wanted; ++i) {
      pid_t pid = fork();
      if (pid == 0) {
        pause();
        _exit(0);
      }
      if (pid < 0) {
        failed_errno = errno;
        break;
      }
      ++made;
    }
    printf("forkbomb: made %d of %d, then %s\n", made, wanted,
           failed_errno ? strerror(failed_errno) : "no failure");
    return 0; /* the children die with this pid namespace's init */
  }
  if (strcmp(mode, "segv") == 0) {
    /* A real fault: raise(SIGSEGV) would be ignored, since the workload is the init of its pid
     * namespace and init ignores default-action signals it sends itself. */
    *(volatile int*)0 = 1;
    return 0;
  }
  if (strcmp(mode, "alloc-hold") == 0 && argc > 2) {
    /* alloc-hold "MIB MS": touches MIB MiB, then holds them for MS ms (one Trigger word). */
    long mib = 0, ms = 0;
    if (sscanf(argv[2], "%ld %ld", &mib, &ms) != 2) return 2;
    size_t bytes = (size_t)mib << 20;
    char* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    for (size_t i = 0; i < bytes; i += 4096) p[i] = 1;
    sleep_ms(ms);
    printf("alloc-hold: held %ld MiB for %ld ms\n", mib, ms);
    return 0;
  }
  if (strcmp(mode, "flood") == 0 && argc > 4) {
    /* flood FD COUNT WORD: sends WORD COUNT times as fast as the channel takes it (blocking). */
    int fd = atoi(argv[2]);
    long count = atol(argv[3]);
    for (long i = 0; i < count; ++i) {
      if (send(fd, argv[4], strlen(argv[4]), MSG_NOSIGNAL) < 0) {
        printf("flood: send %ld: %s\n", i, strerror(errno));
        return 1;
      }
    }
    printf("flood: sent %ld\n", count);
    return 0;
  }
  if (strcmp(mode, "ticker") == 0 && argc > 2) {
    /* ticker FD [COUNT [MS]]: sends "tick-I" every MS ms (default 40 ticks, every 100 ms). */
    int fd = atoi(argv[2]);
    long count = argc > 3 ? atol(argv[3]) : 40;
    long ms = argc > 4 ? atol(argv[4]) : 100;
    for (long i = 0; i < count; ++i) {
      char word[32];
      snprintf(word, sizeof(word), "tick-%ld", i);
      if (send(fd, word, strlen(word), MSG_NOSIGNAL) < 0) {
        printf("ticker: %s\n", strerror(errno));
        return 1;
      }
      sleep_ms(ms);
    }
    return 0;
  }
  if (strcmp(mode, "garbage") == 0 && argc > 2) {
    /* garbage FD: what a confused or hostile sender writes to its Tx pipe, one line per send. */
    int fd = atoi(argv[2]);
    static char big[200000];
    memset(big, 'g', sizeof(big));
    struct {
      const char* what;
      const char* data;
      size_t size;
    } sends[] = {{"nul", "bad\0message", 11},
                 {"empty", "", 0},
                 {"max", big, 64 * 1024},
                 {"over", big, 64 * 1024 + 1},
                 {"huge", big, sizeof(big)}};
    for (size_t i = 0; i < sizeof(sends) / sizeof(sends[0]); ++i) {
      ssize_t n = send(fd, sends[i].data, sends[i].size, MSG_NOSIGNAL);
      printf("garbage: %s: %s\n", sends[i].what, n < 0 ? strerror(errno) : "sent");
    }
    /* A sender that raises its own send buffer gets a larger message past its own end; the
     * supervisor must refuse it on receipt. */
    int sndbuf = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    ssize_t n = send(fd, big, 100000, MSG_NOSIGNAL);
    printf("garbage: raised: %s\n", n < 0 ? strerror(errno) : "sent");
    n = send(fd, "good", 4, MSG_NOSIGNAL);
    printf("garbage: good: %s\n", n < 0 ? strerror(errno) : "sent");
    return 0;
  }
  if (strcmp(mode, "len") == 0) {
    /* len WORD...: the length of every word (for payloads too long to print). */
    for (int i = 2; i < argc; ++i) printf("len: %zu\n", strlen(argv[i]));
    return 0;
  }
  if (strncmp(mode, "close-fds", 9) == 0) {
    /* close-fds*: closes every channel it was given (fd 3 and up) at once, then lingers a
     * little (any entrypoint name starting with close-fds). */
    long closed = 0;
    for (int fd = 3; fd < 1024; ++fd) closed += close(fd) == 0;
    printf("close-fds: closed %ld\n", closed);
    sleep_ms(100);
    return 0;
  }
  if ((strcmp(mode, "send") == 0 || strcmp(mode, "send-too") == 0) && argc > 3) {
    /* send FD WORD...: one message per word on a Pipe Tx fd ("send-too": a second sender). */
    int fd = atoi(argv[2]);
    for (int i = 3; i < argc; ++i) {
      if (send(fd, argv[i], strlen(argv[i]), MSG_NOSIGNAL) < 0) {
        printf("send: %s\n", strerror(errno));
        return 1;
      }
    }
    return 0;
  }
  if (strcmp(mode, "send-nul") == 0 && argc > 2) {
    /* A message that cannot be an argv word, then a good one. */
    int fd = atoi(argv[2]);
    send(fd, "bad\0message", 11, MSG_NOSIGNAL);
    send(fd, "good", 4, MSG_NOSIGNAL);
    return 0;
  }
  if (strcmp(mode, "connect") == 0 && argc > 3) {
    /* connect ADDR PORT...: one TCP connect per port, one line each. */
    for (int i = 3; i < argc; ++i) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[i]))};
      inet_pton(AF_INET, argv[2], &address.sin_addr);
      int rc = fd < 0 ? -1 : connect(fd, (struct sockaddr*)&address, sizeof(address));
      printf("connect %s:%s: %s\n", argv[2], argv[i], rc == 0 ? "ok" : strerror(errno));
      if (fd >= 0) close(fd);
    }
    return 0;
  }
  if ((strcmp(mode, "abstract-listen") == 0 || strcmp(mode, "abstract-connect") == 0) && argc > 2) {
    /* abstract-listen NAME: listen on @NAME for up to 2 s; abstract-connect NAME: connect to it,
     * retrying for 1.5 s while the name does not exist yet. One line each. */
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    const size_t length = strnlen(argv[2], sizeof(address.sun_path) - 1);
    memcpy(address.sun_path + 1, argv[2], length);
    const socklen_t size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + length);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (mode[9] == 'l') {
      if (bind(fd, (struct sockaddr*)&address, size) != 0 || listen(fd, 4) != 0) {
        printf("abstract-listen: %s\n", strerror(errno));
        return 1;
      }
      struct pollfd p = {.fd = fd, .events = POLLIN};
      printf("abstract-listen: %s\n", poll(&p, 1, 2000) == 1 ? "accepted" : "nobody came");
      return 0;
    }
    int rc = -1;
    for (int i = 0; i < 150; ++i, sleep_ms(10)) {
      rc = connect(fd, (struct sockaddr*)&address, size);
      if (rc == 0 || errno != ECONNREFUSED) break;
    }
    printf("abstract-connect: %s\n", rc == 0 ? "ok" : strerror(errno));
    return 0;
  }
  fprintf(stderr, "workload: unknown mode \"%s\"\n", mode);
  return 2;
}
