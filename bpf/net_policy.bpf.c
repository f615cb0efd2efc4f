// SPDX-License-Identifier: GPL-2.0
/* Network policy of shim-bpf runs (docs/network.md). Attached to a run's cgroup v2 directory;
 * judges every socket operation of tasks beneath it by their *entrypoint* cgroup, the ancestor
 * at net_cfg.entrypoint_level, whose policy userspace installs in the maps below:
 *
 *   sock_create      only AF_INET/AF_INET6 stream (TCP) / dgram (UDP) sockets, and only when the
 *                    policy has a rule for that protocol; no raw, ICMP, SCTP... sockets
 *   connect4/6       TCP and connected UDP: destination must match an LPM prefix + port range
 *   sendmsg4/6       unconnected UDP: same, per datagram (each socket keeps its last allowed
 *                    destination, so a socket sending to one peer skips the trie)
 *   bind4/6          only granted inbound ports (port 0, ephemeral, for protocols with rules)
 *   cgroup_skb ingr. connection attempts (anything reaching a TCP *listening* socket) are dropped
 *                    unless the listener's port is granted: this closes listen() on an unbound
 *                    or port-0 socket, which autobinds without passing bind4/6; UDP datagrams to
 *                    an ungranted local port must come from an allowed destination (replies)
 *
 * IPv4-mapped IPv6 destinations (::ffff:a.b.c.d) are judged by the IPv4 rules. 0.0.0.0 and ::
 * as destinations mean "this host" to the kernel, so they are judged as 127.0.0.1 and ::1.
 * mode audit: allow, but report what enforce would deny. Reports go through a ring buffer behind
 * a per-CPU token bucket; what the bucket or a full buffer refuses is counted in `dropped`. */
#include <linux/bpf.h>
#include <linux/in.h>
#include <stdbool.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lib/net_report.bpf.h"

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct net_v4_key);
  __type(value, struct net_rule_value);
} rules_v4 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct net_v6_key);
  __type(value, struct net_rule_value);
} rules_v6 SEC(".maps");

/* BPF_F_NO_PREALLOC: a preallocated hash builds all its elements at map creation (4096 here),
 * which a cold run paid for whether or not anything is ever granted. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct net_inbound_key);
  __type(value, __u8);
} inbound SEC(".maps");

/* Bumped by userspace (through the skeleton's .bss) whenever an entrypoint's policy is removed
 * or replaced: every cached verdict below from before it is void. */
__u64 policy_epoch = 0;

/* The last destination each UDP socket was allowed to send to, and for whom. An unconnected UDP
 * socket mostly sends to one peer (a resolver, a metrics collector, a QUIC server), and judging
 * every datagram again looks up the policy and walks the LPM trie, about a fifth of this program's
 * run time (bench/README.md). Socket-local storage dies with the socket. The entrypoint is part of
 * the entry because a socket can be passed to another entrypoint, whose policy then judges it;
 * only verdicts the rules allowed are kept (never audited denials, which must be reported each
 * time). */
struct sendmsg_cache {
  __u64 cgroup_id;
  __u64 epoch;
  __u32 addr[4]; /* network order; IPv4 in addr[0] */
  __u16 port;    /* host order */
  __u8 family;
  __u8 valid;
  __u32 pad;
};

struct {
  __uint(type, BPF_MAP_TYPE_SK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct sendmsg_cache);
} last_allowed SEC(".maps");

static __always_inline bool port_in(const struct net_port_range *r, __u32 n, __u16 port) {
  for (int i = 0; i < NET_MAX_RANGES; i++) {
    if (i >= n) break;
    if (port >= r[i].first && port <= r[i].last) return true;
  }
  return false;
}

static __always_inline bool value_allows(const struct net_rule_value *v, __u8 protocol,
                                         __u16 port) {
  if (!v) return false;
  if (protocol == IPPROTO_TCP) return port_in(v->tcp, v->n_tcp, port);
  if (protocol == IPPROTO_UDP) return port_in(v->udp, v->n_udp, port);
  return false;
}

static __always_inline bool allowed_v4(__u64 cg, __u32 ip4, __u8 protocol, __u16 port) {
  struct net_v4_key key = {};
  key.prefixlen = 64 + 32;
  __builtin_memcpy(key.cgroup_id, &cg, 8);
  /* 0.0.0.0 as a destination is this host: judge it as loopback. */
  if (ip4 == 0) ip4 = bpf_htonl(0x7f000001);
  __builtin_memcpy(key.addr, &ip4, 4);
  return value_allows(bpf_map_lookup_elem(&rules_v4, &key), protocol, port);
}

static __always_inline bool is_v4_mapped(const __u32 *ip6) {
  return ip6[0] == 0 && ip6[1] == 0 && ip6[2] == bpf_htonl(0xffff);
}

static __always_inline bool allowed_v6(__u64 cg, const __u32 *ip6, __u8 protocol, __u16 port) {
  if (is_v4_mapped(ip6)) return allowed_v4(cg, ip6[3], protocol, port);
  struct net_v6_key key = {};
  key.prefixlen = 64 + 128;
  __builtin_memcpy(key.cgroup_id, &cg, 8);
  __u32 a[4] = {ip6[0], ip6[1], ip6[2], ip6[3]};
  /* :: as a destination is this host: judge it as ::1. */
  if ((a[0] | a[1] | a[2] | a[3]) == 0) a[3] = bpf_htonl(1);
  __builtin_memcpy(key.addr, a, 16);
  return value_allows(bpf_map_lookup_elem(&rules_v6, &key), protocol, port);
}

/* Common tail of every sock_addr hook: 1 allows, 0 denies with EPERM. */
static __always_inline int verdict(bool allowed, const struct net_ep_policy *pol,
                                   struct report *r) {
  if (allowed) return 1;
  bool audit = pol && (pol->flags & NET_POLICY_AUDIT);
  r->verdict = audit ? NET_VERDICT_AUDITED : NET_VERDICT_DENIED;
  emit(r);
  return audit ? 1 : 0;
}

static __always_inline bool cache_hit(const struct sendmsg_cache *c, __u64 cg, __u64 epoch,
                                      __u8 family, const __u32 *ip6, __u16 port) {
  return c && c->valid && c->cgroup_id == cg && c->epoch == epoch && c->port == port &&
         c->family == family && c->addr[0] == ip6[0] && c->addr[1] == ip6[1] &&
         c->addr[2] == ip6[2] && c->addr[3] == ip6[3];
}

static __always_inline void cache_store(struct sendmsg_cache *c, __u64 cg, __u64 epoch,
                                        __u8 family, const __u32 *ip6, __u16 port) {
  if (!c) return;
  c->cgroup_id = cg;
  c->epoch = epoch;
  c->addr[0] = ip6[0];
  c->addr[1] = ip6[1];
  c->addr[2] = ip6[2];
  c->addr[3] = ip6[3];
  c->port = port;
  c->family = family;
  c->valid = 1;
}

static __always_inline int judge_outbound(struct bpf_sock_addr *ctx, bool v6, __u8 hook) {
  /* The epoch is read before the policy: a verdict judged under rules that userspace is
   * removing is stored under the epoch it is about to bump, never the next one. */
  const __u64 epoch = *(volatile __u64 *)&policy_epoch;
  __u64 cg = entrypoint_of_current();
  __u16 port = bpf_ntohs((__u16)ctx->user_port);
  __u32 ip6[4] = {};
  if (v6) {
    ip6[0] = ctx->user_ip6[0];
    ip6[1] = ctx->user_ip6[1];
    ip6[2] = ctx->user_ip6[2];
    ip6[3] = ctx->user_ip6[3];
  } else {
    ip6[0] = ctx->user_ip4;
  }
  const __u8 family = v6 ? AF_INET6 : AF_INET;
  /* Only unconnected UDP (sendmsg4/6) repeats a judgement per packet; connect is once. */
  struct sendmsg_cache *cache = NULL;
  const bool per_datagram = hook == NET_HOOK_SENDMSG4 || hook == NET_HOOK_SENDMSG6;
  if (per_datagram) {
    struct bpf_sock *sk = ctx->sk;
    if (sk) cache = bpf_sk_storage_get(&last_allowed, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
    if (cache_hit(cache, cg, epoch, family, ip6, port)) return 1;
  }
  const struct net_ep_policy *pol = bpf_map_lookup_elem(&policies, &cg);
  __u8 protocol = ctx->protocol;
  struct report r = {.cgroup_id = cg, .port = port, .protocol = protocol, .hook = hook,
                     .sock_type = ctx->type, .has_task = true};
  bool allowed = false;
  if (v6) {
    if (is_v4_mapped(ip6)) {
      r.family = AF_INET;
      r.addr = &ip6[3];
    } else {
      r.family = AF_INET6;
      r.addr = ip6;
    }
    if (pol) allowed = allowed_v6(cg, ip6, protocol, port);
  } else {
    r.family = AF_INET;
    r.addr = ip6;
    if (pol) allowed = allowed_v4(cg, ip6[0], protocol, port);
  }
  if (allowed) cache_store(cache, cg, epoch, family, ip6, port);
  return verdict(allowed, pol, &r);
}

SEC("cgroup/connect4")
int net_connect4(struct bpf_sock_addr *ctx) { return judge_outbound(ctx, false, NET_HOOK_CONNECT4); }

SEC("cgroup/connect6")
int net_connect6(struct bpf_sock_addr *ctx) { return judge_outbound(ctx, true, NET_HOOK_CONNECT6); }

SEC("cgroup/sendmsg4")
int net_sendmsg4(struct bpf_sock_addr *ctx) { return judge_outbound(ctx, false, NET_HOOK_SENDMSG4); }

SEC("cgroup/sendmsg6")
int net_sendmsg6(struct bpf_sock_addr *ctx) { return judge_outbound(ctx, true, NET_HOOK_SENDMSG6); }

static __always_inline bool protocol_granted(const struct net_ep_policy *pol, __u8 protocol) {
  if (!pol) return false;
  if (protocol == IPPROTO_TCP) return pol->flags & NET_POLICY_ALLOW_TCP;
  if (protocol == IPPROTO_UDP) return pol->flags & NET_POLICY_ALLOW_UDP;
  return false;
}

static __always_inline bool inbound_granted(__u64 cg, __u16 port, __u8 protocol) {
  struct net_inbound_key key = {};
  key.cgroup_id = cg;
  key.port = port;
  key.protocol = protocol;
  return bpf_map_lookup_elem(&inbound, &key) != NULL;
}

static __always_inline int judge_bind(struct bpf_sock_addr *ctx, bool v6, __u8 hook) {
  __u64 cg = entrypoint_of_current();
  const struct net_ep_policy *pol = bpf_map_lookup_elem(&policies, &cg);
  __u8 protocol = ctx->protocol;
  __u16 port = bpf_ntohs((__u16)ctx->user_port);
  __u32 ip6[4] = {};
  struct report r = {.cgroup_id = cg, .port = port, .protocol = protocol, .hook = hook,
                     .sock_type = ctx->type, .has_task = true, .addr = ip6};
  if (v6) {
    ip6[0] = ctx->user_ip6[0];
    ip6[1] = ctx->user_ip6[1];
    ip6[2] = ctx->user_ip6[2];
    ip6[3] = ctx->user_ip6[3];
    r.family = AF_INET6;
  } else {
    ip6[0] = ctx->user_ip4;
    r.family = AF_INET;
  }
  bool allowed = false;
  if (pol) {
    /* Port 0 picks an ephemeral port: what clients do. A listen() on it is still caught at
     * ingress, so it is allowed whenever the protocol is. */
    if (port == 0) {
      allowed = protocol_granted(pol, protocol);
    } else {
      allowed = inbound_granted(cg, port, protocol);
    }
  }
  return verdict(allowed, pol, &r);
}

SEC("cgroup/bind4")
int net_bind4(struct bpf_sock_addr *ctx) { return judge_bind(ctx, false, NET_HOOK_BIND4); }

SEC("cgroup/bind6")
int net_bind6(struct bpf_sock_addr *ctx) { return judge_bind(ctx, true, NET_HOOK_BIND6); }

SEC("cgroup/sock_create")
int net_sock_create(struct bpf_sock *sk) {
  __u32 family = sk->family;
  __u32 type = sk->type;
  __u32 protocol = sk->protocol;
  if (family == AF_UNIX) return 1; /* trigger channels; abstract names: see docs/network.md */
  __u64 cg = entrypoint_of_current();
  const struct net_ep_policy *pol = bpf_map_lookup_elem(&policies, &cg);
  bool allowed = false;
  if (pol && (family == AF_INET || family == AF_INET6)) {
    if (type == SOCK_STREAM && protocol == IPPROTO_TCP)
      allowed = pol->flags & NET_POLICY_ALLOW_TCP;
    else if (type == SOCK_DGRAM && protocol == IPPROTO_UDP)
      allowed = pol->flags & NET_POLICY_ALLOW_UDP;
  }
  if (allowed) return 1;
  struct report r = {.cgroup_id = cg, .family = family, .protocol = protocol,
                     .hook = NET_HOOK_SOCK_CREATE, .sock_type = type, .has_task = true};
  bool audit = pol && (pol->flags & NET_POLICY_AUDIT);
  r.verdict = audit ? NET_VERDICT_AUDITED : NET_VERDICT_DENIED;
  emit(&r);
  return audit ? 1 : 0;
}

/* The source address and port of an inbound UDP datagram (data starts at the network header).
 * False if it cannot be read: an IPv6 datagram behind extension headers, for instance. */
static __always_inline bool udp_source(struct __sk_buff *skb, __u32 *addr, bool *v6,
                                       __u16 *port) {
  __u16 sport;
  if (skb->protocol == bpf_htons(0x0800)) { /* ETH_P_IP */
    __u8 vihl;
    if (bpf_skb_load_bytes(skb, 0, &vihl, 1)) return false;
    if (bpf_skb_load_bytes(skb, 12, addr, 4)) return false;
    if (bpf_skb_load_bytes(skb, (vihl & 0xf) * 4, &sport, 2)) return false;
    *v6 = false;
  } else if (skb->protocol == bpf_htons(0x86DD)) { /* ETH_P_IPV6 */
    __u8 next;
    if (bpf_skb_load_bytes(skb, 6, &next, 1) || next != IPPROTO_UDP) return false;
    if (bpf_skb_load_bytes(skb, 8, addr, 16)) return false;
    if (bpf_skb_load_bytes(skb, 40, &sport, 2)) return false;
    *v6 = true;
  } else {
    return false;
  }
  *port = bpf_ntohs(sport);
  return true;
}

/* Packets for sockets beneath the run cgroup, judged by the socket's entrypoint:
 *  - TCP, to a *listening* socket (connection attempts: SYNs, or cookie ACKs): the listener's
 *    port must be an inbound grant. This closes listen() on an unbound or port-0 socket, which
 *    autobinds without passing bind4/6.
 *  - UDP, to a socket whose local port is not an inbound grant: the datagram must come from an
 *    address and port the entrypoint may send to (replies to its own traffic), so an ephemeral
 *    UDP socket is not a server for anyone.
 * Everything else (TCP on connected sockets, which passed connect4/6 or a granted listener)
 * passes. */
SEC("cgroup_skb/ingress")
int net_ingress(struct __sk_buff *skb) {
  struct bpf_sock *sk = skb->sk;
  if (!sk) return 1;
  sk = bpf_sk_fullsock(sk);
  if (!sk) return 1;
  __u32 protocol = sk->protocol;
  if (protocol == IPPROTO_TCP) {
    if (sk->state != TCP_LISTEN_STATE) return 1;
  } else if (protocol != IPPROTO_UDP) {
    return 1;
  }
  __u64 cg = bpf_skb_ancestor_cgroup_id(skb, net_cfg.entrypoint_level);
  const struct net_ep_policy *pol = bpf_map_lookup_elem(&policies, &cg);
  __u16 local_port = (__u16)sk->src_port; /* host order */
  if (pol && inbound_granted(cg, local_port, protocol)) return 1;
  __u32 ip6[4] = {};
  struct report r = {.cgroup_id = cg, .protocol = protocol, .addr = ip6};
  if (protocol == IPPROTO_TCP) {
    r.hook = NET_HOOK_LISTEN;
    r.sock_type = SOCK_STREAM;
    r.port = local_port;
    if (sk->family == AF_INET6) {
      /* volatile: one load per word at a constant offset (the verifier forbids arithmetic on a
       * sock pointer, which clang otherwise emits for the array). */
      ip6[0] = *(volatile __u32 *)&sk->src_ip6[0];
      ip6[1] = *(volatile __u32 *)&sk->src_ip6[1];
      ip6[2] = *(volatile __u32 *)&sk->src_ip6[2];
      ip6[3] = *(volatile __u32 *)&sk->src_ip6[3];
      r.family = AF_INET6;
    } else {
      ip6[0] = sk->src_ip4;
      r.family = AF_INET;
    }
  } else {
    r.hook = NET_HOOK_UDP_RECV;
    r.sock_type = SOCK_DGRAM;
    bool v6 = false;
    __u16 sport = 0;
    if (udp_source(skb, ip6, &v6, &sport)) {
      r.port = sport;
      if (v6 && is_v4_mapped(ip6)) {
        r.family = AF_INET;
        r.addr = &ip6[3];
      } else {
        r.family = v6 ? AF_INET6 : AF_INET;
      }
      if (pol) {
        bool allowed = v6 ? allowed_v6(cg, ip6, IPPROTO_UDP, sport)
                          : allowed_v4(cg, ip6[0], IPPROTO_UDP, sport);
        if (allowed) return 1;
      }
    }
  }
  bool audit = pol && (pol->flags & NET_POLICY_AUDIT);
  r.verdict = audit ? NET_VERDICT_AUDITED : NET_VERDICT_DENIED;
  emit(&r);
  return audit ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
