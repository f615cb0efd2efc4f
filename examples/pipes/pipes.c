/* Pipe triggers: a sender writes messages; each message starts a brand-new, isolated receiver.
 *
 *   sender ── Pipe "messages" (one write = one message) ──> shim-bpf ── one void each ──> receiver
 *
 * The receiver gets the message as an argv word (the spec's Trigger arg) and prints it with its
 * pid, so a run shows one distinct process per message. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shim/app.h"

/* pipes sender MESSAGES_TX WORD...: sends each word as one message. */
static int sender(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "sender: want MESSAGES_TX WORD...\n");
    return 2;
  }
  int tx = shim_parse_fd(argv[2]);
  if (tx < 0) {
    perror("sender: bad fd argument");
    return 2;
  }
  const char *defaults[] = {"hello", "from", "the", "sender"};
  int count = argc > 3 ? argc - 3 : 4;
  for (int i = 0; i < count; ++i) {
    const char *word = argc > 3 ? argv[3 + i] : defaults[i];
    if (shim_send_message(tx, word, strlen(word)) != 0) {
      perror("sender: send");
      return 1;
    }
  }
  return 0;
}

/* pipes receiver MESSAGE */
static int receiver(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "receiver: want MESSAGE\n");
    return 2;
  }
  printf("receiver pid %d got: %s\n", (int)getpid(), argv[2]);
  return 0;
}

static const struct shim_entrypoint entrypoints[] = {
    {"sender", sender, "MESSAGES_TX WORD..."},
    {"receiver", receiver, "MESSAGE"},
};

int main(int argc, char **argv) {
  return shim_dispatch(argc, argv, entrypoints, sizeof(entrypoints) / sizeof(entrypoints[0]));
}
