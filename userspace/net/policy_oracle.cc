#include "net/policy_oracle.h"

#include <netinet/in.h>

namespace shim::net {
namespace {

bool PrefixMatches(const std::array<uint8_t, 16>& prefix, int prefix_len,
                   const std::array<uint8_t, 16>& address) {
  for (int i = 0; prefix_len > 0; ++i, prefix_len -= 8) {
    const uint8_t mask = prefix_len >= 8 ? 0xff : static_cast<uint8_t>(0xff00 >> prefix_len);
    if ((address[i] & mask) != (prefix[i] & mask)) return false;
  }
  return true;
}

}  // namespace

bool SpecAllows(const spec::NetworkPolicy& policy, bool ipv6,
                const std::array<uint8_t, 16>& address, int protocol, uint16_t port) {
  for (const spec::OutboundRule& rule : policy.outbound) {
    if (rule.cidr.ipv6 != ipv6) continue;
    if (rule.protocol == spec::Protocol::kTcp && protocol != IPPROTO_TCP) continue;
    if (rule.protocol == spec::Protocol::kUdp && protocol != IPPROTO_UDP) continue;
    if (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP) continue;
    if (!PrefixMatches(rule.cidr.address, rule.cidr.prefix_len, address)) continue;
    if (rule.ports.empty()) return true;
    for (const spec::PortRange& r : rule.ports) {
      if (port >= r.first && port <= r.last) return true;
    }
  }
  return false;
}

bool CompiledAllows(const CompiledPolicy& policy, bool ipv6, const std::array<uint8_t, 16>& address,
                    int protocol, uint16_t port) {
  const CompiledPrefix* best = nullptr;
  for (const CompiledPrefix& p : policy.prefixes) {
    if (p.ipv6 != ipv6 || !PrefixMatches(p.address, p.prefix_len, address)) continue;
    if (best == nullptr || p.prefix_len > best->prefix_len) best = &p;
  }
  if (best == nullptr) return false;
  const net_port_range* ranges = nullptr;
  int n = 0;
  if (protocol == IPPROTO_TCP) {
    ranges = best->value.tcp;
    n = best->value.n_tcp;
  } else if (protocol == IPPROTO_UDP) {
    ranges = best->value.udp;
    n = best->value.n_udp;
  }
  for (int i = 0; i < n && i < NET_MAX_RANGES; ++i) {
    if (port >= ranges[i].first && port <= ranges[i].last) return true;
  }
  return false;
}

}  // namespace shim::net
