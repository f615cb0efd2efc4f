/* The echo server, split for shim-bpf: a listener that only accepts and a handler per connection.
 *
 *   shim-bpf ── binds 127.0.0.1:8080 ──> connection_listener (no network, no files)
 *                                              │ each accepted connection, as an fd batch
 *                                              ▼
 *   shim-bpf ── one fresh void per batch ──> request_handler (gets exactly that one socket)
 *
 * The listener never touches client data; a handler sees one client and nothing else, and a
 * crash or exploit in it is confined to that one connection's void. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "shim/app.h"

/* echo connection_listener LISTEN_FD CLIENTS_TX */
static int connection_listener(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "connection_listener: want LISTEN_FD CLIENTS_TX, got %d words\n", argc - 2);
    return 2;
  }
  int listen_fd = shim_parse_fd(argv[2]);
  int clients_tx = shim_parse_fd(argv[3]);
  if (listen_fd < 0 || clients_tx < 0) {
    perror("connection_listener: bad fd argument");
    return 2;
  }
  if (shim_serve_listener(listen_fd, clients_tx) == 0) return 0; /* asked to stop */
  perror("connection_listener: stopped serving");
  return 1;
}

/* echo request_handler CONNECTION_FD: echoes until the client closes. */
static int request_handler(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "request_handler: want CONNECTION_FD, got %d words\n", argc - 2);
    return 2;
  }
  int connection = shim_parse_fd(argv[2]);
  if (connection < 0) {
    perror("request_handler: bad fd argument");
    return 2;
  }
  char buffer[16384];
  for (;;) {
    ssize_t n = read(connection, buffer, sizeof(buffer));
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ECONNRESET) return 0;
      perror("request_handler: read");
      return 1;
    }
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(connection, buffer + done, (size_t)(n - done));
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EPIPE || errno == ECONNRESET) return 0;
        perror("request_handler: write");
        return 1;
      }
      done += w;
    }
  }
}

static const struct shim_entrypoint entrypoints[] = {
    {"connection_listener", connection_listener, "LISTEN_FD CLIENTS_TX"},
    {"request_handler", request_handler, "CONNECTION_FD"},
};

int main(int argc, char** argv) {
  return shim_dispatch(argc, argv, entrypoints, sizeof(entrypoints) / sizeof(entrypoints[0]));
}
