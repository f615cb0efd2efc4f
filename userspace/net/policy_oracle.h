// Two userspace judges of one destination, for tests, fuzzing and tooling:
//   SpecAllows:     straight from the spec (any rule whose CIDR, protocol and ports match);
//   CompiledAllows: what the BPF programs decide from a CompiledPolicy (longest matching
//                   prefix only, then its port ranges), mirroring bpf/net_policy.bpf.c.
// They must agree for every destination: that is CompilePolicy's correctness property.
#pragma once

#include <array>
#include <cstdint>

#include "net/policy.h"
#include "spec/model.h"

namespace shim::net {

// `address`: IPv4 in the first 4 bytes (network order) when !ipv6. `protocol`: IPPROTO_TCP or
// IPPROTO_UDP. Address rewriting (IPv4-mapped, 0.0.0.0) is the programs' job, not modelled here.
bool SpecAllows(const spec::NetworkPolicy& policy, bool ipv6,
                const std::array<uint8_t, 16>& address, int protocol, uint16_t port);
bool CompiledAllows(const CompiledPolicy& policy, bool ipv6, const std::array<uint8_t, 16>& address,
                    int protocol, uint16_t port);

}  // namespace shim::net
