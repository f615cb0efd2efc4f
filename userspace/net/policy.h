// Compiles one entrypoint's spec::NetworkPolicy into the entries of the BPF maps of
// bpf/net_policy.bpf.c. Pure (no kernel), so it is unit-tested, fuzzed and benchmarked alone.
//
// Encoding: every distinct CIDR of the policy becomes one LPM-trie entry whose value lists the
// port ranges allowed per protocol. The kernel's LPM trie returns only the longest matching
// prefix, so an entry also carries the ranges of every shorter rule that contains it (rules are
// "pushed down" the prefix tree): 10.0.0.0/8 port 5432 plus 10.1.0.0/16 port 80 gives the /16
// entry both ports. Ranges are sorted and coalesced; a prefix needing more than
// NET_MAX_RANGES ranges for one protocol is an error (named, with the CIDR).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "net_policy.h"
#include "spec/model.h"

namespace shim::net {

// One LPM-trie entry, without the entrypoint's cgroup id (AddEntrypoint stamps that in).
struct CompiledPrefix {
  bool ipv6 = false;
  uint8_t prefix_len = 0;             // of the address alone (0..32 or 0..128)
  std::array<uint8_t, 16> address{};  // masked; IPv4 in the first 4 bytes, network order
  net_rule_value value{};             // allowed port ranges per protocol
};

struct CompiledPolicy {
  uint32_t flags = 0;                    // NET_POLICY_* bits of net_policy.h
  std::vector<CompiledPrefix> prefixes;  // sorted: IPv4 first, then by address and length
  // Granted inbound (bind/listen) ports: {port, IPPROTO_TCP or IPPROTO_UDP}, sorted, unique.
  std::vector<std::pair<uint16_t, uint8_t>> inbound;
};

// Compiles `policy`. Fails (InvalidArgument, naming the rule's JSON pointer or CIDR) on
// malformed input: prefix length out of range, an empty or inverted port range, too many
// ranges for one prefix.
absl::StatusOr<CompiledPolicy> CompilePolicy(const spec::NetworkPolicy& policy);

}  // namespace shim::net
