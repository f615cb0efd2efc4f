// SPDX-License-Identifier: GPL-2.0
/* Counts exec()s and process exits inside one cgroup v2. The smallest real program of the build
 * pipeline: tp_btf (no tracefs needed), CO-RE, a .rodata knob and .bss counters. */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "exec_count.h"

/* Set by the loader before load: the cgroup whose tasks are counted. */
const volatile __u64 target_cgroup_id = 0;

struct exec_count_stats stats = {};

SEC("tp_btf/sched_process_exec")
int BPF_PROG(count_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm) {
  if (bpf_get_current_cgroup_id() != target_cgroup_id) return 0;
  __sync_fetch_and_add(&stats.execs, 1);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(count_exit, struct task_struct *task) {
  if (bpf_get_current_cgroup_id() != target_cgroup_id) return 0;
  /* Threads exit through here too; count a process once, when its leader goes. */
  if (BPF_CORE_READ(task, pid) != BPF_CORE_READ(task, tgid)) return 0;
  __sync_fetch_and_add(&stats.exits, 1);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
