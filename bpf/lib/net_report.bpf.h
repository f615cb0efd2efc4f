/* What every shim-bpf network program shares: the run's knobs, the entrypoint policy map, and
 * denial reporting (ring buffer behind a per-CPU token bucket, with a drop counter). Included by
 * net_policy.bpf.c and net_unix.bpf.c; userspace makes the second object reuse the first one's
 * maps (bpf_map__reuse_fd), so there is one policy table and one report stream. */
#ifndef SHIM_BPF_LIB_NET_REPORT_BPF_H
#define SHIM_BPF_LIB_NET_REPORT_BPF_H

#include "net_policy.h"

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define TCP_LISTEN_STATE 10 /* BPF_TCP_LISTEN */

const volatile struct net_config net_cfg = {};

/* Not preallocated (see `inbound` in net_policy.bpf.c): entries come and go once per
 * entrypoint, and only cgroup programs, never NMI-context ones, read the map. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024); /* resized by the loader */
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, __u64);
  __type(value, struct net_ep_policy);
} policies SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} denials SEC(".maps");

struct net_bucket {
  __u64 last_ns;
  __u64 tokens;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct net_bucket);
} buckets SEC(".maps");

/* Reports lost to the rate limit or a full ring buffer, per CPU. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} dropped SEC(".maps");

static __always_inline void count_drop(void) {
  __u32 zero = 0;
  __u64 *n = bpf_map_lookup_elem(&dropped, &zero);
  if (n) *n += 1; /* per-CPU value: no atomics needed */
}

/* Token bucket, per CPU: true if a report may be sent now. */
static __always_inline bool take_token(void) {
  __u32 zero = 0;
  struct net_bucket *b = bpf_map_lookup_elem(&buckets, &zero);
  if (!b) return false;
  __u64 now = bpf_ktime_get_ns();
  __u64 elapsed = now - b->last_ns;
  __u64 burst = net_cfg.burst;
  if (elapsed >= 1000000000ull) {
    b->tokens = burst;
    b->last_ns = now;
  } else {
    __u64 add = elapsed * net_cfg.rate_per_sec / 1000000000ull;
    if (add > 0) {
      b->tokens += add;
      if (b->tokens > burst) b->tokens = burst;
      b->last_ns = now;
    }
  }
  if (b->tokens == 0) return false;
  b->tokens -= 1;
  return true;
}

struct report {
  __u64 cgroup_id;
  const __u32 *addr; /* 1 or 4 words, network order; NULL for none */
  __u16 port;
  __u8 family;
  __u8 protocol;
  __u8 hook;
  __u8 verdict;
  __u8 sock_type;
  bool has_task;
  bool unix_name; /* addr points at 16 bytes of an abstract unix name */
};

static __always_inline void emit(const struct report *r) {
  if (!take_token()) {
    count_drop();
    return;
  }
  struct net_event *e = bpf_ringbuf_reserve(&denials, sizeof(*e), 0);
  if (!e) {
    count_drop();
    return;
  }
  __builtin_memset(e, 0, sizeof(*e));
  e->cgroup_id = r->cgroup_id;
  e->timestamp_ns = bpf_ktime_get_ns();
  if (r->has_task) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    e->tgid = pid_tgid >> 32;
    e->pid = (__u32)pid_tgid;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    e->task_cgroup_id = bpf_get_current_cgroup_id();
  }
  if (r->addr) {
    if (r->family == AF_INET6 || r->unix_name) {
      __builtin_memcpy(e->addr, r->addr, 16);
    } else {
      __builtin_memcpy(e->addr, r->addr, 4);
    }
  }
  e->port = r->port;
  e->family = r->family;
  e->protocol = r->protocol;
  e->hook = r->hook;
  e->verdict = r->verdict;
  e->sock_type = r->sock_type;
  bpf_ringbuf_submit(e, 0);
}


static __always_inline __u64 entrypoint_of_current(void) {
  return bpf_get_current_ancestor_cgroup_id(net_cfg.entrypoint_level);
}

#endif
