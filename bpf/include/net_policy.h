/* Shared between net_policy.bpf.c and userspace/net (the map layouts and the denial record).
 * See docs/network.md for the model. */
#ifndef SHIM_BPF_NET_POLICY_H
#define SHIM_BPF_NET_POLICY_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Port ranges one LPM entry can hold per protocol (after merging the rules that contain it). */
#define NET_MAX_RANGES 32

/* net_ep_policy.flags */
#define NET_POLICY_AUDIT (1u << 0)     /* allow everything, report what enforce would deny */
#define NET_POLICY_ALLOW_TCP (1u << 1) /* TCP sockets may be created (some TCP rule exists) */
#define NET_POLICY_ALLOW_UDP (1u << 2) /* UDP sockets may be created */

/* policies: entrypoint cgroup id -> this. No entry: the cgroup may have no IP socket. */
struct net_ep_policy {
  __u32 flags;
  __u32 reserved;
};

struct net_port_range {
  __u16 first; /* host order, inclusive */
  __u16 last;
};

/* Value of both LPM tries: the ports one prefix allows, per protocol. */
struct net_rule_value {
  __u8 n_tcp;
  __u8 n_udp;
  __u16 reserved;
  struct net_port_range tcp[NET_MAX_RANGES];
  struct net_port_range udp[NET_MAX_RANGES];
};

/* LPM keys: prefixlen counts bits of cgroup_id (always all 64) plus the address prefix. The
 * cgroup id is two __u32 so the struct has no padding (the trie's data starts right after
 * prefixlen). */
struct net_v4_key {
  __u32 prefixlen;
  __u32 cgroup_id[2]; /* memcpy of the __u64 id */
  __u8 addr[4];       /* network order */
};

struct net_v6_key {
  __u32 prefixlen;
  __u32 cgroup_id[2];
  __u8 addr[16];
};

/* inbound: granted local ports (bind, and SYNs to listening sockets). */
struct net_inbound_key {
  __u64 cgroup_id;
  __u16 port; /* host order */
  __u8 protocol; /* IPPROTO_TCP / IPPROTO_UDP */
  __u8 reserved[5];
};

/* Which hook reported. */
enum net_hook {
  NET_HOOK_CONNECT4 = 1,
  NET_HOOK_CONNECT6 = 2,
  NET_HOOK_SENDMSG4 = 3,
  NET_HOOK_SENDMSG6 = 4,
  NET_HOOK_BIND4 = 5,
  NET_HOOK_BIND6 = 6,
  NET_HOOK_SOCK_CREATE = 7,
  NET_HOOK_LISTEN = 8, /* cgroup_skb ingress: a connection attempt to an ungranted listener */
  NET_HOOK_UDP_RECV = 9, /* cgroup_skb ingress: a datagram from a source the rules do not allow */
  NET_HOOK_CONNECT_UNIX = 10, /* connect() to an abstract unix socket */
  NET_HOOK_SENDMSG_UNIX = 11, /* sendto() to an abstract unix socket */
};

enum net_verdict {
  NET_VERDICT_DENIED = 0,
  NET_VERDICT_AUDITED = 1,
};

/* One ring-buffer record. */
struct net_event {
  __u64 cgroup_id; /* entrypoint cgroup (0: the task is above the entrypoint level) */
  __u64 task_cgroup_id; /* the task's own cgroup (its instance); 0 for inbound packets */
  __u64 timestamp_ns;
  __u32 tgid; /* 0 for inbound packets (no task context) */
  __u32 pid;
  char comm[16];
  __u8 addr[16]; /* IPv4 in the first 4 bytes; AF_UNIX: the abstract name's first bytes */
  __u16 port;    /* host order */
  __u8 family;   /* AF_INET / AF_INET6 of the judged address, or the socket family */
  __u8 protocol;
  __u8 hook;
  __u8 verdict;
  __u8 sock_type;
  __u8 reserved;
};

/* Knobs set by the loader in .rodata before load. */
struct net_config {
  __u32 entrypoint_level; /* cgroup level of entrypoint cgroups (run cgroup level + 1) */
  __u32 rate_per_sec;     /* denial reports per second per CPU */
  __u32 burst;
  __u32 reserved;
};

#ifdef __cplusplus
static_assert(sizeof(struct net_ep_policy) == 8, "ABI shared with net_policy.bpf.c");
static_assert(sizeof(struct net_rule_value) == 4 + 8 * NET_MAX_RANGES, "ABI");
static_assert(sizeof(struct net_v4_key) == 16, "ABI shared with net_policy.bpf.c");
static_assert(sizeof(struct net_v6_key) == 28, "ABI shared with net_policy.bpf.c");
static_assert(sizeof(struct net_inbound_key) == 16, "ABI shared with net_policy.bpf.c");
static_assert(sizeof(struct net_event) == 72, "ABI shared with net_policy.bpf.c");
static_assert(sizeof(struct net_config) == 16, "ABI shared with net_policy.bpf.c");
#else
_Static_assert(sizeof(struct net_ep_policy) == 8, "ABI shared with userspace");
_Static_assert(sizeof(struct net_rule_value) == 4 + 8 * NET_MAX_RANGES, "ABI");
_Static_assert(sizeof(struct net_v4_key) == 16, "ABI shared with userspace");
_Static_assert(sizeof(struct net_v6_key) == 28, "ABI shared with userspace");
_Static_assert(sizeof(struct net_inbound_key) == 16, "ABI shared with userspace");
_Static_assert(sizeof(struct net_event) == 72, "ABI shared with userspace");
_Static_assert(sizeof(struct net_config) == 16, "ABI shared with userspace");
#endif

#endif
