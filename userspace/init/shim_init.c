/* shim-init: the minimal init of a void whose entrypoint says "init": true.
 *
 * A program that is pid 1 of its pid namespace receives from outside only the signals it has a
 * handler for: an app that never installs a SIGTERM handler (python's http.server, most servers
 * written for a container with an init) ignores the supervisor's stop signal and waits out the
 * whole grace period. shim-init is pid 1 instead, runs the app as its only child, forwards every
 * signal it receives to it, reaps every orphan the namespace hands it, and exits as the app did.
 *
 *   /.shim/init PATH ARGV0 [ARG...]      execs PATH with ARGV0 ARG... (and the same environment)
 *
 * It is linked statically (a void holds no library for it), allocates nothing and runs inside the
 * void's seccomp filter and Landlock domain like the app; it gains nothing the app does not have. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

/* The exit status that says what happened to the app: its own code, or 128+N for signal N (pid 1
 * cannot die of a signal it sends itself, so the shell's convention stands in for it). */
static int StatusOf(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "shim-init: usage: %s PATH ARGV0 [ARG...]\n", argc > 0 ? argv[0] : "init");
    return 127;
  }
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  /* Every signal is taken synchronously below. The void starts shim-init with all of them
   * blocked already (a signal to a pid 1 without a handler is dropped unless it is blocked), so
   * none sent while it starts is lost; blocked again in case it was started otherwise. */
  if (sigprocmask(SIG_SETMASK, &all, NULL) != 0) {
    perror("shim-init: sigprocmask");
    return 127;
  }
  const pid_t app = fork();
  if (app < 0) {
    perror("shim-init: fork");
    return 127;
  }
  if (app == 0) {
    sigprocmask(SIG_SETMASK, &none, NULL); /* the app starts as every void does: none blocked */
    execve(argv[1], argv + 2, environ);
    fprintf(stderr, "shim-init: execve %s: %s\n", argv[1], strerror(errno));
    _exit(127);
  }
  for (;;) {
    siginfo_t info;
    const int sig = sigwaitinfo(&all, &info);
    if (sig < 0) {
      if (errno == EINTR) continue;
      perror("shim-init: sigwaitinfo");
      return 127;
    }
    if (sig != SIGCHLD) {
      /* Forwarded as is: the app's own disposition decides (SIGTERM's default ends it). */
      if (kill(app, sig) != 0 && errno != ESRCH) perror("shim-init: forward signal");
      continue;
    }
    /* Reap everything that has ended: the app, and orphans re-parented to pid 1. */
    for (;;) {
      int wstatus = 0;
      const pid_t pid = waitpid(-1, &wstatus, WNOHANG);
      if (pid <= 0) break;
      /* When the app ends, so does the void: the kernel kills what is left of the namespace
       * once pid 1 exits. */
      if (pid == app) return StatusOf(wstatus);
    }
  }
}
