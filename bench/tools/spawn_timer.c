/* Times `command` started N times, each run waited for: one sample (ns, start to reaped) a line.
 * posix_spawn is glibc's vfork+exec, the cheapest way to start a process: the baseline.
 *
 *   spawn_timer ITERATIONS COMMAND [ARGS...]
 * Exits non-zero (and says why) if any run fails, so a broken comparison never looks fast. */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: spawn_timer ITERATIONS COMMAND [ARGS...]\n");
    return 2;
  }
  long iterations = strtol(argv[1], NULL, 10);
  for (long i = 0; i < iterations; ++i) {
    long long start = now_ns();
    pid_t pid;
    int err = posix_spawnp(&pid, argv[2], NULL, NULL, argv + 2, environ);
    if (err != 0) {
      fprintf(stderr, "spawn_timer: %s: %s\n", argv[2], strerror(err));
      return 1;
    }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "spawn_timer: run %ld of %s failed (status 0x%x)\n", i, argv[2], status);
      return 1;
    }
    printf("%lld\n", now_ns() - start);
  }
  return 0;
}
