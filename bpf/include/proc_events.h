/* Shared between proc_events.bpf.c and its userspace decoder (userspace/trace/event_decode.cc).
 * One ring-buffer record per fork, exec or exit. Fork and exit records are the header only
 * (SHIM_PROC_HEADER_SIZE bytes); exec records carry the filename and argv head as well
 * (sizeof(struct shim_proc_event)). The userspace decoder treats these bytes as untrusted and checks
 * every length. */
#ifndef SHIM_BPF_PROC_EVENTS_H
#define SHIM_BPF_PROC_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SHIM_PROC_COMM_LEN 16
#define SHIM_PROC_FILENAME_LEN 128
#define SHIM_PROC_ARGS_LEN 256 /* the first argv words, NUL-separated, possibly truncated */
#define SHIM_PROC_CGROUP_DEPTH 16 /* ancestors walked by the cgroup scope filter */

enum shim_proc_kind {
  SHIM_PROC_FORK = 1,
  SHIM_PROC_EXEC = 2,
  SHIM_PROC_EXIT = 3,
};

/* Scope of the kernel-side filter (a .rodata knob). */
enum shim_scope_kind {
  SHIM_SCOPE_ALL = 0,
  SHIM_SCOPE_SUBTREE = 1, /* tgids in the `tracked` map, children added on fork */
  SHIM_SCOPE_CGROUP = 2,  /* tasks in target_cgroup_id or beneath it */
};

#define SHIM_PROC_FLAG_THREAD 1u /* fork/exit of a non-leader thread */

struct shim_proc_event {
  __u32 kind;  /* enum shim_proc_kind */
  __u32 flags; /* SHIM_PROC_FLAG_* */
  __u64 ts_ns; /* bpf_ktime_get_ns() */
  __u64 cgroup_id; /* cgroup v2 id of the task (the child, for a fork) */
  __s32 pid;   /* thread id (the child's, for a fork) */
  __s32 tgid;  /* process id (the child's, for a fork) */
  __s32 parent_tgid;
  __s32 exit_code; /* exit: raw task->exit_code, (status << 8) | signal */
  __u16 filename_len; /* exec: bytes of filename used, including the NUL */
  __u16 args_len;     /* exec: bytes of args used */
  __u32 reserved;
  char comm[SHIM_PROC_COMM_LEN];
  /* exec records only: */
  char filename[SHIM_PROC_FILENAME_LEN];
  char args[SHIM_PROC_ARGS_LEN];
};

#define SHIM_PROC_HEADER_SIZE 64 /* offsetof(struct shim_proc_event, filename) */

#ifdef __cplusplus
static_assert(sizeof(struct shim_proc_event) == 448, "ABI shared with proc_events.bpf.c");
static_assert(__builtin_offsetof(struct shim_proc_event, filename) == SHIM_PROC_HEADER_SIZE,
              "fork/exit records are the header");
#else
_Static_assert(sizeof(struct shim_proc_event) == 448, "ABI shared with userspace");
_Static_assert(__builtin_offsetof(struct shim_proc_event, filename) == SHIM_PROC_HEADER_SIZE,
               "fork/exit records are the header");
#endif

#endif
