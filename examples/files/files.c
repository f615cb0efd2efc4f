/* Filesystem grants: a lister names files, and for each name a fresh `converter` void reads
 * /in/NAME (a read-only grant) and writes its upper-cased copy to /out/NAME (the only writable
 * grant). Nothing else of the host is visible to either.
 *
 *   lister ── Pipe "names" ──> shim-bpf ── one void per name ──> converter */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "shim/app.h"

/* files lister NAMES_TX: sends the name of every regular file in /in. */
static int lister(int argc, char **argv) {
  if (argc != 3) return 2;
  int tx = shim_parse_fd(argv[2]);
  if (tx < 0) {
    perror("lister: bad fd");
    return 2;
  }
  DIR *in = opendir("/in");
  if (!in) {
    perror("lister: /in");
    return 1;
  }
  int sent = 0;
  for (struct dirent *entry; (entry = readdir(in)) != NULL;) {
    if (entry->d_type != DT_REG) continue;
    if (shim_send_message(tx, entry->d_name, strlen(entry->d_name)) != 0) {
      perror("lister: send");
      closedir(in);
      return 1;
    }
    ++sent;
  }
  closedir(in);
  fprintf(stderr, "lister: sent %d names\n", sent);
  return 0;
}

/* files converter NAME: /in/NAME -> upper case -> /out/NAME */
static int converter(int argc, char **argv) {
  if (argc != 3 || strchr(argv[2], '/') != NULL) return 2;
  char in_path[512], out_path[512];
  snprintf(in_path, sizeof(in_path), "/in/%s", argv[2]);
  snprintf(out_path, sizeof(out_path), "/out/%s", argv[2]);
  FILE *in = fopen(in_path, "r");
  if (!in) {
    fprintf(stderr, "converter: %s: %s\n", in_path, strerror(errno));
    return 1;
  }
  FILE *out = fopen(out_path, "w");
  if (!out) {
    fprintf(stderr, "converter: %s: %s\n", out_path, strerror(errno));
    fclose(in);
    return 1;
  }
  for (int c; (c = fgetc(in)) != EOF;) fputc(toupper(c), out);
  fclose(in);
  /* The read-only grant really is read-only: */
  FILE *tamper = fopen(in_path, "a");
  fprintf(stderr, "converter %s: wrote %s; writing %s: %s\n", argv[2], out_path, in_path,
          tamper ? "ALLOWED (not isolated!)" : strerror(errno));
  if (tamper) fclose(tamper);
  return fclose(out) == 0 ? 0 : 1;
}

static const struct shim_entrypoint entrypoints[] = {
    {"lister", lister, "NAMES_TX"},
    {"converter", converter, "NAME"},
};

int main(int argc, char **argv) {
  return shim_dispatch(argc, argv, entrypoints, sizeof(entrypoints) / sizeof(entrypoints[0]));
}
