// CompilePolicy with arbitrary policies: it never crashes, refuses only what is malformed (prefix
// too long, inverted range, too many ranges for one prefix, inbound port 0), and what it
// compiles allows exactly what the spec allows, for destinations drawn from the input too.
//
// Input layout (all bytes optional; missing ones read as 0):
//   byte 0: bit 0 audit mode, bits 1-7 number of rules (0..127)
//   per rule: [flags: bit0 ipv6, bits1-2 protocol, bits 3-5 port ranges] [prefix_len]
//             [4 address bytes: first, second and last address bytes + one spare]
//             [per range: first, last (one byte each, small ports make overlaps likely)]
//   then probes, 4 bytes each: [ipv6|proto] [addr byte 0] [addr last byte] [port]
#include <netinet/in.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "net/policy.h"
#include "net/policy_oracle.h"

namespace {

struct Reader {
  const uint8_t* data;
  size_t size;
  size_t at = 0;
  uint8_t Next() { return at < size ? data[at++] : 0; }
  bool done() const { return at >= size; }
};

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "net_policy_fuzz: invariant broken: %s\n", what);
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace shim;
  Reader in{data, size};
  spec::NetworkPolicy policy;
  const uint8_t head = in.Next();
  policy.mode = head & 1 ? spec::NetworkMode::kAudit : spec::NetworkMode::kEnforce;
  bool malformed = false;
  const int rules = head >> 1;
  for (int i = 0; i < rules && !in.done(); ++i) {
    spec::OutboundRule r;
    const uint8_t flags = in.Next();
    r.cidr.ipv6 = flags & 1;
    r.protocol = static_cast<spec::Protocol>(((flags >> 1) & 3) % 3);
    r.cidr.prefix_len = in.Next();
    if (r.cidr.prefix_len > (r.cidr.ipv6 ? 128 : 32)) malformed = true;
    r.cidr.address[0] = in.Next();
    r.cidr.address[1] = in.Next();
    r.cidr.address[r.cidr.ipv6 ? 15 : 3] = in.Next();
    r.cidr.address[2] = in.Next();
    const int ranges = (flags >> 3) & 7;
    for (int k = 0; k < ranges; ++k) {
      spec::PortRange pr{in.Next(), in.Next()};
      if (pr.first > pr.last) malformed = true;
      r.ports.push_back(pr);
    }
    policy.outbound.push_back(r);
  }
  auto compiled = shim::net::CompilePolicy(policy);
  if (!compiled.ok()) {
    // The only other refusal: more merged ranges than fit one prefix (needs > 32 ranges).
    size_t total_ranges = 0;
    for (const auto& r : policy.outbound) total_ranges += r.ports.size();
    Check(malformed || total_ranges > NET_MAX_RANGES, "only malformed policies are refused");
    return 0;
  }
  Check(!malformed, "malformed policy refused");
  Check(((compiled->flags & NET_POLICY_AUDIT) != 0) ==
            (policy.mode == spec::NetworkMode::kAudit),
        "audit flag");
  while (!in.done()) {
    const uint8_t kind = in.Next();
    const bool v6 = kind & 1;
    const int proto = kind & 2 ? IPPROTO_UDP : IPPROTO_TCP;
    std::array<uint8_t, 16> a{};
    a[0] = in.Next();
    a[v6 ? 15 : 3] = in.Next();
    const uint16_t port = in.Next();
    Check(shim::net::CompiledAllows(*compiled, v6, a, proto, port) ==
              shim::net::SpecAllows(policy, v6, a, proto, port),
          "compiled policy judges like the spec");
  }
  return 0;
}
