// SPDX-License-Identifier: GPL-2.0
/* Abstract unix sockets for shim-bpf runs (docs/network.md). A void that shares the host's network
 * namespace (it has a network grant) could reach the host's *abstract* unix sockets: their names
 * live per network namespace, not in the filesystem the void's mount namespace hides. No spec
 * grant covers them, so connect() and sendto() to an abstract address are refused for every task
 * beneath the run cgroup (audit-mode entrypoints: allowed and reported). Pathname sockets are left
 * to the filesystem view; unnamed socketpairs (trigger channels) never pass these hooks.
 *
 * Kernel >= 6.7 (cgroup/connect_unix, sendmsg_unix). Debian's libbpf 1.1 does not know those
 * section names, so the programs are declared as connect4/sendmsg4 and the loader sets the real
 * expected attach types (BPF_CGROUP_UNIX_CONNECT = 49, BPF_CGROUP_UNIX_SENDMSG = 50) before load.
 * Maps are shared with net_policy.bpf.c through bpf_map__reuse_fd. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "lib/net_report.bpf.h"

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

static __always_inline int judge_unix(struct bpf_sock_addr *ctx, __u8 hook) {
  struct bpf_sock_addr_kern *sa = bpf_cast_to_kern_ctx(ctx);
  /* Read through probe reads, not loads: each verified load from a kernel struct makes the
   * verifier search vmlinux BTF by name (btf_nested_type_is_trusted), a third of this object's
   * load time. */
  __u32 len = BPF_CORE_READ(sa, uaddrlen);
  char *uaddr = (char *)BPF_CORE_READ(sa, uaddr);
  /* sun_family (2 bytes), then the path; abstract when it starts with NUL. */
  char first = 0;
  if (len <= 2) return 1; /* autobind / unnamed */
  if (bpf_probe_read_kernel(&first, 1, uaddr + 2)) return 0;
  if (first != 0) return 1; /* pathname socket */
  /* The abstract name's first 16 bytes, for the report (aligned: emit copies it as words). */
  __u32 name[4] = {};
  /* The kernel's copy of the address is a sockaddr_storage: 16 bytes from offset 3 are inside it;
   * what lies beyond the address's own length is cleared. */
  bpf_probe_read_kernel(name, sizeof(name), uaddr + 3);
  for (__u32 i = 0; i < sizeof(name); i++) {
    if (i + 3 >= len) ((char *)name)[i] = 0;
  }
  __u64 cg = entrypoint_of_current();
  const struct net_ep_policy *pol = bpf_map_lookup_elem(&policies, &cg);
  bool audit = pol && (pol->flags & NET_POLICY_AUDIT);
  struct report r = {.cgroup_id = cg, .family = AF_UNIX, .hook = hook, .sock_type = ctx->type,
                     .has_task = true, .addr = name, .unix_name = true};
  r.verdict = audit ? NET_VERDICT_AUDITED : NET_VERDICT_DENIED;
  emit(&r);
  return audit ? 1 : 0;
}

SEC("cgroup/connect4") /* attach type set to BPF_CGROUP_UNIX_CONNECT by the loader */
int net_connect_unix(struct bpf_sock_addr *ctx) { return judge_unix(ctx, NET_HOOK_CONNECT_UNIX); }

SEC("cgroup/sendmsg4") /* attach type set to BPF_CGROUP_UNIX_SENDMSG by the loader */
int net_sendmsg_unix(struct bpf_sock_addr *ctx) { return judge_unix(ctx, NET_HOOK_SENDMSG_UNIX); }

char LICENSE[] SEC("license") = "GPL";
