/* libshim_app: the small library an application links to run under shim-bpf.
 *
 * The spec and the argv contract stay the interface (any language can implement them by hand):
 * each entrypoint is started as `binary ARGS...` where the spec's args become argv words and
 * every granted fd arrives as a decimal fd number. This library only removes the boilerplate:
 *   - shim_dispatch(): pick the entrypoint named by argv[1] from a table, with a usage error
 *     listing the entrypoints;
 *   - shim_parse_fd(): an argv word to a checked, open fd;
 *   - shim_send_message() / shim_send_fds(): write one message to a Pipe Tx, or one fd batch to a
 *     FileSocket Tx (each spawns one handler);
 *   - shim_serve_listener(): accept connections forever and hand each to the shim, the
 *     "App Listener -> Shim -> n x Request Handler" shape in one call.
 * All functions return 0 (or an fd) on success and -1 with errno set on failure. */
#ifndef SHIM_APP_H
#define SHIM_APP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The largest message one Pipe write may carry; a larger one fails with EMSGSIZE. */
#define SHIM_MAX_MESSAGE_BYTES 65536
/* The most fds one FileSocket batch may carry. */
#define SHIM_MAX_FDS_PER_BATCH 64

struct shim_entrypoint {
  const char *name;                    /* matched against argv[1] (the spec's Entrypoint arg) */
  int (*main)(int argc, char **argv);  /* gets the full argv; its return is the exit code */
  const char *usage;                   /* the remaining argv words, for the usage message */
};

/* Runs the entrypoint named by argv[1] and returns its exit code. On a missing or unknown name it
 * prints a usage message listing every entrypoint to stderr and returns 2.
 * It also installs SIGTERM and SIGINT handlers that end the process (exit status 128+signal):
 * an entrypoint is the init of its void's pid namespace, and the kernel never applies a default
 * signal action to an init, so without them the supervisor's shutdown request would be ignored
 * until the grace period ends. An entrypoint may install its own handlers after that. */
int shim_dispatch(int argc, char **argv, const struct shim_entrypoint *entrypoints, size_t count);

/* Parses a decimal fd word and checks that the fd is open. Returns the fd, or -1 with errno EINVAL
 * (not a number) or EBADF (not open). */
int shim_parse_fd(const char *word);

/* Writes one message (one handler) to a Pipe Tx fd. Returns 0, or -1 with errno (EMSGSIZE over
 * SHIM_MAX_MESSAGE_BYTES). */
int shim_send_message(int pipe_tx_fd, const void *data, size_t length);

/* Sends `count` fds (1..SHIM_MAX_FDS_PER_BATCH) as one batch (one handler) to a FileSocket Tx fd.
 * The caller keeps its own copies and may close them afterwards. */
int shim_send_fds(int file_socket_tx_fd, const int *fds, size_t count);

/* Accepts connections on `listen_fd` forever; each accepted connection is sent to
 * `file_socket_tx_fd` as a one-fd batch and then closed here, so the connection lives only in its
 * handler. Transient accept errors (aborted connections, fd or memory pressure) are retried; a
 * connection that cannot be handed over under pressure (ETOOMANYREFS: too many fds in flight,
 * ENOBUFS, ENOMEM) is closed and the next one is served.
 * Returns -1 with errno when the listener or the file socket fails for good (e.g. EPIPE when the
 * shim has gone away), and 0 when SIGTERM or SIGINT asked it to stop (handlers installed by
 * shim_dispatch). */
int shim_serve_listener(int listen_fd, int file_socket_tx_fd);

#ifdef __cplusplus
}
#endif

#endif /* SHIM_APP_H */
