#include <netinet/in.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>

#include "net/firewall.h"

namespace shim::net {
namespace {

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kDenied:
      return "denied";
    case Verdict::kAudited:
      return "audited";
    case Verdict::kDropped:
      return "dropped";
  }
  return "unknown";
}

const char* DirectionName(Direction d) {
  switch (d) {
    case Direction::kOutbound:
      return "outbound";
    case Direction::kInbound:
      return "inbound";
    case Direction::kSocket:
      return "socket";
  }
  return "unknown";
}

std::string FamilyName(int family) {
  switch (family) {
    case AF_INET:
      return "ipv4";
    case AF_INET6:
      return "ipv6";
    case AF_UNIX:
      return "unix";
    case AF_NETLINK:
      return "netlink";
    case AF_PACKET:
      return "packet";
    default:
      return std::to_string(family);
  }
}

std::string ProtocolName(int protocol) {
  switch (protocol) {
    case IPPROTO_TCP:
      return "tcp";
    case IPPROTO_UDP:
      return "udp";
    case IPPROTO_ICMP:
      return "icmp";
    case IPPROTO_ICMPV6:
      return "icmpv6";
    case IPPROTO_RAW:
      return "raw";
    default:
      return std::to_string(protocol);
  }
}

}  // namespace

nlohmann::ordered_json DenialToJsonValue(const Denial& d) {
  nlohmann::ordered_json j;
  j["event"] = "denial";
  j["verdict"] = VerdictName(d.verdict);
  if (d.verdict == Verdict::kDropped) {
    j["dropped"] = d.dropped;
    return j;
  }
  j["entrypoint"] = d.entrypoint;
  j["cgroup_id"] = d.cgroup_id;
  j["task_cgroup_id"] = d.task_cgroup_id;
  j["pid"] = d.pid;
  j["comm"] = d.comm;
  j["direction"] = DirectionName(d.direction);
  j["hook"] = d.hook;
  j["family"] = FamilyName(d.family);
  if (!d.address.empty()) j["address"] = d.address;
  j["port"] = d.port;
  j["protocol"] = ProtocolName(d.protocol);
  j["sock_type"] = d.sock_type;
  j["timestamp_ns"] = d.timestamp_ns;
  return j;
}

std::string DenialToJson(const Denial& d) {
  // Invalid UTF-8 in comm must not throw: replace it.
  return DenialToJsonValue(d).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace shim::net
