// SPDX-License-Identifier: GPL-2.0
/* The process tracer: one ring-buffer record per fork, exec and exit, filtered in the kernel by
 * scope (everything, the subtree of a root process, or a cgroup v2 and its descendants).
 * Records are submitted with BPF_RB_NO_WAKEUP: a wakeup per event costs ~20% of spawn rate, so
 * userspace drains the buffer on a ~10 ms timer instead. A full buffer is counted in `dropped`,
 * never lost silently. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "proc_events.h"

/* Set by the loader before load. */
const volatile __u32 scope_kind = SHIM_SCOPE_ALL;
const volatile __u64 target_cgroup_id = 0;

/* Records that did not fit in the ring buffer. */
__u64 dropped = 0;

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 22); /* overridden by the loader */
} events SEC(".maps");

/* SHIM_SCOPE_SUBTREE: the tgids being followed. Userspace inserts the root; forks add children;
 * the death of a thread group removes it. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __s32);
  __type(value, __u8);
} tracked SEC(".maps");

static __always_inline __u64 task_cgroup_id(struct task_struct *task) {
  return BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
}

/* Whether the task's cgroup v2 is target_cgroup_id or beneath it (bounded walk up). */
static __always_inline bool in_target_cgroup(struct task_struct *task) {
  struct cgroup *cgrp = BPF_CORE_READ(task, cgroups, dfl_cgrp);
  for (int i = 0; i < SHIM_PROC_CGROUP_DEPTH && cgrp; i++) {
    if (BPF_CORE_READ(cgrp, kn, id) == target_cgroup_id) return true;
    struct cgroup_subsys_state *parent = BPF_CORE_READ(cgrp, self.parent);
    if (!parent) return false;
    cgrp = BPF_CORE_READ(parent, cgroup);
  }
  return false;
}

static __always_inline bool is_tracked(__s32 tgid) {
  return bpf_map_lookup_elem(&tracked, &tgid) != NULL;
}

static __always_inline bool in_scope(struct task_struct *task) {
  if (scope_kind == SHIM_SCOPE_SUBTREE) return is_tracked(BPF_CORE_READ(task, tgid));
  if (scope_kind == SHIM_SCOPE_CGROUP) return in_target_cgroup(task);
  return true;
}

static __always_inline void fill_header(struct shim_proc_event *e, __u32 kind,
                                        struct task_struct *task) {
  e->kind = kind;
  e->flags = 0;
  e->ts_ns = bpf_ktime_get_ns();
  e->cgroup_id = task_cgroup_id(task);
  e->pid = BPF_CORE_READ(task, pid);
  e->tgid = BPF_CORE_READ(task, tgid);
  e->parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
  e->exit_code = 0;
  e->filename_len = 0;
  e->args_len = 0;
  e->reserved = 0;
  bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), &task->comm);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child) {
  __s32 parent_tgid = BPF_CORE_READ(parent, tgid);
  __s32 child_tgid = BPF_CORE_READ(child, tgid);
  bool thread = child_tgid == parent_tgid;
  if (scope_kind == SHIM_SCOPE_SUBTREE) {
    if (!is_tracked(parent_tgid)) return 0;
    if (!thread) {
      __u8 one = 1;
      /* Before the child runs (the tracepoint fires before wake_up_new_task), so its exec and
       * exit are never missed. A full map drops the child's events; count that as lost. */
      if (bpf_map_update_elem(&tracked, &child_tgid, &one, BPF_ANY) != 0) {
        __sync_fetch_and_add(&dropped, 1);
        return 0;
      }
    }
  } else if (scope_kind == SHIM_SCOPE_CGROUP) {
    /* The child's own cgroup: CLONE_INTO_CGROUP may place it away from its parent. */
    if (!in_target_cgroup(child)) return 0;
  }
  struct shim_proc_event *e = bpf_ringbuf_reserve(&events, SHIM_PROC_HEADER_SIZE, 0);
  if (!e) {
    __sync_fetch_and_add(&dropped, 1);
    return 0;
  }
  fill_header(e, SHIM_PROC_FORK, child);
  if (thread) {
    e->flags |= SHIM_PROC_FLAG_THREAD;
    e->parent_tgid = parent_tgid; /* a thread's "parent" is its own process */
  }
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
  return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm) {
  if (!in_scope(task)) return 0;
  struct shim_proc_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    __sync_fetch_and_add(&dropped, 1);
    return 0;
  }
  fill_header(e, SHIM_PROC_EXEC, task);
  long n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
  e->filename_len = n > 0 ? (__u16)n : 0;

  /* The argv strings sit between mm->arg_start and arg_end in the new image's user memory. */
  unsigned long start = BPF_CORE_READ(task, mm, arg_start);
  unsigned long end = BPF_CORE_READ(task, mm, arg_end);
  __u64 len = end > start ? end - start : 0;
  if (len > SHIM_PROC_ARGS_LEN) len = SHIM_PROC_ARGS_LEN;
  /* Keep the bound visible to the verifier after clang's rewrites. */
  len &= (SHIM_PROC_ARGS_LEN << 1) - 1;
  if (len > 0 && len <= SHIM_PROC_ARGS_LEN &&
      bpf_probe_read_user(e->args, len, (const void *)start) == 0) {
    e->args_len = (__u16)len;
  }
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task) {
  __s32 tgid = BPF_CORE_READ(task, tgid);
  __s32 pid = BPF_CORE_READ(task, pid);
  if (!in_scope(task)) return 0;
  /* signal->live was decremented before this tracepoint: zero means the whole group is dead. */
  bool group_dead = BPF_CORE_READ(task, signal, live.counter) == 0;
  if (scope_kind == SHIM_SCOPE_SUBTREE && group_dead) bpf_map_delete_elem(&tracked, &tgid);
  struct shim_proc_event *e = bpf_ringbuf_reserve(&events, SHIM_PROC_HEADER_SIZE, 0);
  if (!e) {
    __sync_fetch_and_add(&dropped, 1);
    return 0;
  }
  fill_header(e, SHIM_PROC_EXIT, task);
  e->exit_code = BPF_CORE_READ(task, exit_code);
  if (pid != tgid) e->flags |= SHIM_PROC_FLAG_THREAD;
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
