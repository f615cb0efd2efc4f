#include "net/policy.h"

#include <netinet/in.h>

#include <algorithm>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace shim::net {
namespace {

using Range = std::pair<uint16_t, uint16_t>;  // inclusive

// A distinct prefix of the policy and the ranges its own rules grant, before push-down.
struct PrefixKey {
  bool ipv6;
  uint8_t prefix_len;
  std::array<uint8_t, 16> address;
  bool operator==(const PrefixKey& o) const {
    return ipv6 == o.ipv6 && prefix_len == o.prefix_len && address == o.address;
  }
  template <typename H>
  friend H AbslHashValue(H h, const PrefixKey& k) {
    return H::combine(std::move(h), k.ipv6, k.prefix_len, k.address);
  }
};

struct Ranges {
  std::vector<Range> tcp;
  std::vector<Range> udp;
};

std::array<uint8_t, 16> Mask(const std::array<uint8_t, 16>& address, int prefix_len) {
  std::array<uint8_t, 16> out{};
  for (int i = 0; i < 16 && prefix_len > 0; ++i, prefix_len -= 8) {
    out[i] = prefix_len >= 8 ? address[i] : address[i] & static_cast<uint8_t>(0xff00 >> prefix_len);
  }
  return out;
}

// Sorts and coalesces overlapping or adjacent ranges.
void Coalesce(std::vector<Range>& ranges) {
  std::sort(ranges.begin(), ranges.end());
  std::vector<Range> out;
  for (const Range& r : ranges) {
    if (!out.empty() &&
        static_cast<uint32_t>(r.first) <= static_cast<uint32_t>(out.back().second) + 1) {
      out.back().second = std::max(out.back().second, r.second);
    } else {
      out.push_back(r);
    }
  }
  ranges = std::move(out);
}

std::string PrefixText(const PrefixKey& k) {
  std::string s;
  if (!k.ipv6) {
    s = absl::StrCat(k.address[0], ".", k.address[1], ".", k.address[2], ".", k.address[3]);
  } else {
    for (int i = 0; i < 16; i += 2) {
      if (i) s += ":";
      absl::StrAppend(&s, absl::Hex((k.address[i] << 8) | k.address[i + 1]));
    }
  }
  return absl::StrCat(s, "/", k.prefix_len);
}

absl::Status Fill(const PrefixKey& key, const char* protocol, const std::vector<Range>& ranges,
                  uint8_t& count, net_port_range* out) {
  if (ranges.size() > NET_MAX_RANGES) {
    return absl::InvalidArgumentError(
        absl::StrCat("network policy: ", PrefixText(key), " needs ", ranges.size(), " ", protocol,
                     " port ranges (its own rules plus those of every rule containing "
                     "it, after merging); at most ",
                     NET_MAX_RANGES, " fit: merge ports into ranges"));
  }
  count = static_cast<uint8_t>(ranges.size());
  for (size_t i = 0; i < ranges.size(); ++i) out[i] = {ranges[i].first, ranges[i].second};
  return absl::OkStatus();
}

std::string Where(const std::string& pointer) {
  return pointer.empty() ? std::string("network policy") : pointer;
}

}  // namespace

absl::StatusOr<CompiledPolicy> CompilePolicy(const spec::NetworkPolicy& policy) {
  CompiledPolicy out;
  if (policy.mode == spec::NetworkMode::kAudit) out.flags |= NET_POLICY_AUDIT;

  absl::flat_hash_map<PrefixKey, Ranges> own;
  own.reserve(policy.outbound.size());
  // Longest prefix used per family: push-down only needs to look at shorter ones that exist.
  std::array<bool, 129> used_v4{};
  std::array<bool, 129> used_v6{};
  for (const spec::OutboundRule& rule : policy.outbound) {
    const int max_len = rule.cidr.ipv6 ? 128 : 32;
    if (rule.cidr.prefix_len > max_len) {
      return absl::InvalidArgumentError(absl::StrCat(Where(rule.pointer), ": prefix length ",
                                                     rule.cidr.prefix_len, " is over ", max_len));
    }
    std::vector<Range> ports;
    if (rule.ports.empty()) {
      ports.push_back({0, 65535});
    } else {
      for (const spec::PortRange& p : rule.ports) {
        if (p.first > p.last) {
          return absl::InvalidArgumentError(absl::StrCat(Where(rule.pointer), ": port range ",
                                                         p.first, "-", p.last, " is inverted"));
        }
        ports.push_back({p.first, p.last});
      }
    }
    PrefixKey key{rule.cidr.ipv6, rule.cidr.prefix_len,
                  Mask(rule.cidr.address, rule.cidr.prefix_len)};
    if (!rule.cidr.ipv6) std::fill(key.address.begin() + 4, key.address.end(), 0);
    Ranges& r = own[key];
    const bool tcp = rule.protocol != spec::Protocol::kUdp;
    const bool udp = rule.protocol != spec::Protocol::kTcp;
    if (tcp) {
      r.tcp.insert(r.tcp.end(), ports.begin(), ports.end());
      out.flags |= NET_POLICY_ALLOW_TCP;
    }
    if (udp) {
      r.udp.insert(r.udp.end(), ports.begin(), ports.end());
      out.flags |= NET_POLICY_ALLOW_UDP;
    }
    (rule.cidr.ipv6 ? used_v6 : used_v4)[key.prefix_len] = true;
  }

  // Push-down: a prefix also allows what every shorter prefix containing it allows, because the
  // kernel's LPM lookup returns only the longest match.
  out.prefixes.reserve(own.size());
  for (const auto& [key, ranges] : own) {
    Ranges merged = ranges;
    const auto& used = key.ipv6 ? used_v6 : used_v4;
    for (int len = 0; len < key.prefix_len; ++len) {
      if (!used[len]) continue;
      auto it = own.find(PrefixKey{key.ipv6, static_cast<uint8_t>(len), Mask(key.address, len)});
      if (it == own.end()) continue;
      merged.tcp.insert(merged.tcp.end(), it->second.tcp.begin(), it->second.tcp.end());
      merged.udp.insert(merged.udp.end(), it->second.udp.begin(), it->second.udp.end());
    }
    Coalesce(merged.tcp);
    Coalesce(merged.udp);
    CompiledPrefix p;
    p.ipv6 = key.ipv6;
    p.prefix_len = key.prefix_len;
    p.address = key.address;
    if (absl::Status s = Fill(key, "tcp", merged.tcp, p.value.n_tcp, p.value.tcp); !s.ok())
      return s;
    if (absl::Status s = Fill(key, "udp", merged.udp, p.value.n_udp, p.value.udp); !s.ok())
      return s;
    out.prefixes.push_back(p);
  }
  std::sort(out.prefixes.begin(), out.prefixes.end(),
            [](const CompiledPrefix& a, const CompiledPrefix& b) {
              return std::tie(a.ipv6, a.address, a.prefix_len) <
                     std::tie(b.ipv6, b.address, b.prefix_len);
            });

  for (const spec::InboundRule& rule : policy.inbound) {
    if (rule.port == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(rule.pointer), ": inbound port 0 is not a port"));
    }
    if (rule.protocol != spec::Protocol::kUdp) {
      out.inbound.push_back({rule.port, IPPROTO_TCP});
      out.flags |= NET_POLICY_ALLOW_TCP;
    }
    if (rule.protocol != spec::Protocol::kTcp) {
      out.inbound.push_back({rule.port, IPPROTO_UDP});
      out.flags |= NET_POLICY_ALLOW_UDP;
    }
  }
  std::sort(out.inbound.begin(), out.inbound.end());
  out.inbound.erase(std::unique(out.inbound.begin(), out.inbound.end()), out.inbound.end());
  return out;
}

}  // namespace shim::net
