/* Connection-rate and latency client for echo servers (bench/cases/echo.sh).
 *
 *   echo_client PORT CONNECTIONS CONCURRENCY LATENCY_FILE
 *
 * CONCURRENCY threads share CONNECTIONS connections to 127.0.0.1:PORT; each connection sends 64
 * bytes, half-closes, reads the echo to EOF and closes. Every connection's latency (connect to
 * EOF, ns) is appended to LATENCY_FILE, one a line; the overall rate (connections/s) is printed.
 * Exits non-zero if any connection was not echoed byte for byte, so a broken server never looks
 * fast. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int port;
static long total;
static atomic_long next_connection;
static atomic_long failures;
static long long *latencies;

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int one_connection(void) {
  static const char message[64] = "shim-bpf echo benchmark: 64 bytes of payload, echoed back....";
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct timeval timeout = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ok = connect(fd, (struct sockaddr *)&address, sizeof(address)) == 0 &&
           write(fd, message, sizeof(message)) == (ssize_t)sizeof(message) &&
           shutdown(fd, SHUT_WR) == 0;
  char reply[128];
  size_t got = 0;
  for (ssize_t n; ok && (n = read(fd, reply + got, sizeof(reply) - got)) > 0;) got += (size_t)n;
  close(fd);
  return ok && got == sizeof(message) && memcmp(reply, message, sizeof(message)) == 0 ? 0 : -1;
}

static void *worker(void *unused) {
  (void)unused;
  for (long i; (i = atomic_fetch_add(&next_connection, 1)) < total;) {
    long long start = now_ns();
    if (one_connection() != 0) atomic_fetch_add(&failures, 1);
    latencies[i] = now_ns() - start;
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: echo_client PORT CONNECTIONS CONCURRENCY LATENCY_FILE\n");
    return 2;
  }
  port = atoi(argv[1]);
  total = atol(argv[2]);
  int concurrency = atoi(argv[3]);
  latencies = calloc((size_t)total, sizeof(*latencies));
  pthread_t threads[256];
  if (concurrency < 1 || concurrency > 256 || latencies == NULL) return 2;
  long long start = now_ns();
  for (int t = 0; t < concurrency; ++t) pthread_create(&threads[t], NULL, worker, NULL);
  for (int t = 0; t < concurrency; ++t) pthread_join(threads[t], NULL);
  double seconds = (double)(now_ns() - start) / 1e9;
  FILE *out = fopen(argv[4], "a");
  if (out == NULL) return 2;
  for (long i = 0; i < total; ++i) fprintf(out, "%lld\n", latencies[i]);
  fclose(out);
  if (failures > 0) {
    fprintf(stderr, "echo_client: %ld of %ld connections were not echoed\n", (long)failures,
            total);
    return 1;
  }
  printf("%.1f\n", (double)total / seconds);
  return 0;
}
