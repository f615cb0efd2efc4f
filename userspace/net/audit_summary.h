// Learning mode for `shim-bpf audit`: collects the audited (and denied) reports of a run and
// suggests, per entrypoint, the `network` block that would have allowed exactly what was seen.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/firewall.h"

namespace shim::net {

class AuditSummary {
 public:
  // Feeds one report (kDropped records are counted, their content is unknown).
  void Add(const Denial& denial);

  // Per entrypoint: {"mode": "enforce", "outbound": [{"cidr": "10.0.0.9/32", "ports": [5432],
  // "protocol": "tcp"}], "inbound": [{"port": 8080, "protocol": "tcp"}]}, in the spec's syntax.
  // Entrypoints with nothing seen are absent.
  std::map<std::string, nlohmann::ordered_json> SuggestedNetworkBlocks() const;

  // Human-readable summary: per entrypoint, counts by hook and the suggested block; then what no
  // policy can grant (raw sockets, abstract unix names...) and how many reports were lost to the
  // rate limit.
  std::string Text() const;

  uint64_t dropped() const { return dropped_; }

 private:
  struct Seen {
    // {address, protocol name} -> ports
    std::map<std::pair<std::string, std::string>, std::set<uint16_t>> outbound;
    std::set<std::pair<uint16_t, std::string>> inbound;  // {port, protocol name}
    std::map<std::string, uint64_t> by_hook;
    std::set<std::string> ungrantable;  // e.g. "socket(family 2, type 3, protocol 1)",
                                        // "abstract unix socket @name (connect_unix)"
  };
  std::map<std::string, Seen> seen_;  // by entrypoint name ("" for unknown cgroups)
  uint64_t dropped_ = 0;
};

}  // namespace shim::net
