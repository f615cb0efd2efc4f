/* Shared between exec_count.bpf.c and its userspace loader. */
#ifndef SHIM_BPF_EXEC_COUNT_H
#define SHIM_BPF_EXEC_COUNT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Counters for one cgroup, kept in the program's .bss. */
struct exec_count_stats {
  __u64 execs; /* successful execve()s by tasks in the cgroup */
  __u64 exits; /* thread-group leaders that exited in the cgroup */
};

#ifdef __cplusplus
static_assert(sizeof(struct exec_count_stats) == 16, "ABI shared with exec_count.bpf.c");
#else
_Static_assert(sizeof(struct exec_count_stats) == 16, "ABI shared with userspace");
#endif

#endif
