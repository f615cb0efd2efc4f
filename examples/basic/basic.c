/* The smallest shim-bpf application: two entrypoints of one binary, both started at startup, each
 * in its own void. Each prints what it can see of the world: its pid (1: it is the init of its own
 * pid namespace), its hostname (from the spec), and whether it can read a host file it was not
 * granted. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shim/app.h"

static void report(const char *who) {
  char host[65] = "";
  gethostname(host, sizeof(host) - 1);
  FILE *secret = fopen("/etc/passwd", "r");
  printf("%s: pid %d, hostname \"%s\", /etc/passwd: %s\n", who, (int)getpid(), host,
         secret ? "READABLE (not isolated!)" : strerror(errno));
  if (secret) fclose(secret);
}

/* basic greeter NAME... */
static int greeter(int argc, char **argv) {
  report("greeter");
  for (int i = 2; i < argc; ++i) printf("greeter: hello, %s\n", argv[i]);
  return 0;
}

/* basic counter */
static int counter(int argc, char **argv) {
  (void)argc;
  (void)argv;
  report("counter");
  for (int i = 1; i <= 3; ++i) printf("counter: %d\n", i);
  return 0;
}

static const struct shim_entrypoint entrypoints[] = {
    {"greeter", greeter, "NAME..."},
    {"counter", counter, ""},
};

int main(int argc, char **argv) {
  return shim_dispatch(argc, argv, entrypoints, sizeof(entrypoints) / sizeof(entrypoints[0]));
}
