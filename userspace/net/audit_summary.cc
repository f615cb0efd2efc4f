#include "net/audit_summary.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include "absl/strings/str_cat.h"

namespace shim::net {
namespace {

std::string ProtocolName(int protocol) {
  if (protocol == IPPROTO_TCP) return "tcp";
  if (protocol == IPPROTO_UDP) return "udp";
  return std::to_string(protocol);
}

// Ports as the spec writes them: single ports, and "a-b" for runs of 3 or more.
nlohmann::ordered_json PortList(const std::set<uint16_t>& ports) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  auto it = ports.begin();
  while (it != ports.end()) {
    uint16_t first = *it, last = *it;
    auto next = std::next(it);
    while (next != ports.end() && *next == last + 1) last = *next++;
    if (last - first >= 2) {
      out.push_back(absl::StrCat(first, "-", last));
    } else {
      for (uint32_t p = first; p <= last; ++p) out.push_back(p);
    }
    it = next;
  }
  return out;
}

}  // namespace

void AuditSummary::Add(const Denial& d) {
  if (d.verdict == Verdict::kDropped) {
    dropped_ += d.dropped;
    return;
  }
  Seen& s = seen_[d.entrypoint];
  ++s.by_hook[d.hook];
  const std::string proto = ProtocolName(d.protocol);
  if (d.hook == "sock_create") {
    // TCP and UDP sockets follow from the rules suggested for their traffic; anything else
    // cannot be granted at all.
    const bool inet = d.family == AF_INET || d.family == AF_INET6;
    const bool tcp = d.sock_type == SOCK_STREAM && d.protocol == IPPROTO_TCP;
    const bool udp = d.sock_type == SOCK_DGRAM && d.protocol == IPPROTO_UDP;
    if (!inet || !(tcp || udp)) {
      s.ungrantable.insert(absl::StrCat("socket(family ", d.family, ", type ", d.sock_type,
                                        ", protocol ", d.protocol, ")"));
    }
    return;
  }
  if (d.family == AF_UNIX) {
    // Abstract unix names (connect_unix, sendmsg_unix): no network block grants them,
    // and they are no CIDR to suggest.
    s.ungrantable.insert(absl::StrCat("abstract unix socket ", d.address, " (", d.hook, ")"));
    return;
  }
  if (d.direction == Direction::kInbound && d.hook != "udp_recv") {
    if (d.port != 0) s.inbound.insert({d.port, proto});
    return;
  }
  // Outbound, and UDP datagrams received from a peer (allowed as replies once it is a
  // destination).
  const std::string cidr = absl::StrCat(d.address, d.family == AF_INET6 ? "/128" : "/32");
  s.outbound[{cidr, proto}].insert(d.port);
}

std::map<std::string, nlohmann::ordered_json> AuditSummary::SuggestedNetworkBlocks() const {
  std::map<std::string, nlohmann::ordered_json> out;
  for (const auto& [name, s] : seen_) {
    if (s.outbound.empty() && s.inbound.empty()) continue;
    nlohmann::ordered_json block;
    block["mode"] = "enforce";
    nlohmann::ordered_json outbound = nlohmann::ordered_json::array();
    for (const auto& [key, ports] : s.outbound) {
      nlohmann::ordered_json rule;
      rule["cidr"] = key.first;
      rule["ports"] = PortList(ports);
      rule["protocol"] = key.second;
      outbound.push_back(rule);
    }
    block["outbound"] = outbound;
    nlohmann::ordered_json inbound = nlohmann::ordered_json::array();
    for (const auto& [port, proto] : s.inbound) {
      inbound.push_back({{"port", port}, {"protocol", proto}});
    }
    block["inbound"] = inbound;
    out[name] = block;
  }
  return out;
}

std::string AuditSummary::Text() const {
  std::string text;
  const auto blocks = SuggestedNetworkBlocks();
  for (const auto& [name, s] : seen_) {
    absl::StrAppend(&text, "entrypoint ", name.empty() ? "(unknown cgroup)" : name, ":");
    for (const auto& [hook, n] : s.by_hook) absl::StrAppend(&text, " ", hook, "=", n);
    absl::StrAppend(&text, "\n");
    if (auto it = blocks.find(name); it != blocks.end()) {
      absl::StrAppend(&text, "  suggested \"network\": ", it->second.dump(), "\n");
    }
    for (const std::string& u : s.ungrantable) {
      absl::StrAppend(&text, "  not grantable by any policy: ", u, "\n");
    }
  }
  if (dropped_ > 0) {
    absl::StrAppend(&text, dropped_,
                    " report(s) lost to the rate limit: the suggestion may be incomplete\n");
  }
  return text;
}

}  // namespace shim::net
