// CompilePolicy: the map encoding of CIDRs, port ranges and protocols, and its one correctness
// property: for every destination, the compiled form (longest prefix only, as the kernel's LPM
// trie answers) allows exactly what the spec's rules allow.
#include "net/policy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <random>

#include "net/policy_oracle.h"

namespace shim::net {
namespace {

spec::Cidr ParseCidr(const std::string& text) {
  spec::Cidr c;
  c.text = text;
  const size_t slash = text.find('/');
  const std::string addr = text.substr(0, slash);
  c.ipv6 = addr.find(':') != std::string::npos;
  EXPECT_EQ(inet_pton(c.ipv6 ? AF_INET6 : AF_INET, addr.c_str(), c.address.data()), 1) << text;
  c.prefix_len = static_cast<uint8_t>(std::stoi(text.substr(slash + 1)));
  return c;
}

spec::OutboundRule Rule(const std::string& cidr, std::vector<spec::PortRange> ports = {},
                        spec::Protocol protocol = spec::Protocol::kAny) {
  spec::OutboundRule r;
  r.cidr = ParseCidr(cidr);
  r.ports = std::move(ports);
  r.protocol = protocol;
  r.pointer = "/entrypoints/e/network/outbound/0";
  return r;
}

std::array<uint8_t, 16> Addr(const std::string& text) {
  std::array<uint8_t, 16> a{};
  const bool v6 = text.find(':') != std::string::npos;
  EXPECT_EQ(inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), a.data()), 1);
  return a;
}

bool Allows(const CompiledPolicy& c, const std::string& ip, int protocol, uint16_t port) {
  return CompiledAllows(c, ip.find(':') != std::string::npos, Addr(ip), protocol, port);
}

std::vector<std::pair<int, int>> Tcp(const CompiledPrefix& p) {
  std::vector<std::pair<int, int>> out;
  for (int i = 0; i < p.value.n_tcp; ++i)
    out.push_back({p.value.tcp[i].first, p.value.tcp[i].last});
  return out;
}
std::vector<std::pair<int, int>> Udp(const CompiledPrefix& p) {
  std::vector<std::pair<int, int>> out;
  for (int i = 0; i < p.value.n_udp; ++i)
    out.push_back({p.value.udp[i].first, p.value.udp[i].last});
  return out;
}

using Ranges = std::vector<std::pair<int, int>>;

TEST(CompilePolicyTest, EmptyPolicyAllowsNothingAndNoSockets) {
  auto c = CompilePolicy(spec::NetworkPolicy{});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->flags, 0u);
  EXPECT_TRUE(c->prefixes.empty());
  EXPECT_TRUE(c->inbound.empty());
}

TEST(CompilePolicyTest, AuditModeSetsTheFlag) {
  spec::NetworkPolicy p;
  p.mode = spec::NetworkMode::kAudit;
  auto c = CompilePolicy(p);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->flags, NET_POLICY_AUDIT);
}

TEST(CompilePolicyTest, PortListAndRangesAreSortedAndCoalesced) {
  spec::NetworkPolicy p;
  p.outbound.push_back(Rule("10.1.0.0/16",
                            {{8000, 8099}, {5432, 5432}, {8100, 8200}, {8050, 8060}, {22, 22}},
                            spec::Protocol::kTcp));
  auto c = CompilePolicy(p);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->prefixes.size(), 1u);
  const CompiledPrefix& e = c->prefixes[0];
  EXPECT_FALSE(e.ipv6);
  EXPECT_EQ(e.prefix_len, 16);
  EXPECT_EQ(e.address, Addr("10.1.0.0"));
  EXPECT_EQ(Tcp(e), (Ranges{{22, 22}, {5432, 5432}, {8000, 8200}}));
  EXPECT_TRUE(Udp(e).empty());
  EXPECT_EQ(c->flags, NET_POLICY_ALLOW_TCP);
}

TEST(CompilePolicyTest, NoPortsMeansEveryPortForEachProtocolOfTheRule) {
  spec::NetworkPolicy p;
  p.outbound.push_back(Rule("192.168.0.0/24"));
  p.outbound.push_back(Rule("172.16.0.0/12", {}, spec::Protocol::kUdp));
  auto c = CompilePolicy(p);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->prefixes.size(), 2u);
  // Sorted by address: 172.16/12 first.
  EXPECT_TRUE(Tcp(c->prefixes[0]).empty());
  EXPECT_EQ(Udp(c->prefixes[0]), (Ranges{{0, 65535}}));
  EXPECT_EQ(Tcp(c->prefixes[1]), (Ranges{{0, 65535}}));
  EXPECT_EQ(Udp(c->prefixes[1]), (Ranges{{0, 65535}}));
  EXPECT_EQ(c->flags, NET_POLICY_ALLOW_TCP | NET_POLICY_ALLOW_UDP);
}

TEST(CompilePolicyTest, AddressesAreMaskedToThePrefix) {
  spec::NetworkPolicy p;
  p.outbound.push_back(Rule("10.1.2.3/8", {{80, 80}}));
  p.outbound.push_back(Rule("2001:db8:ffff::1/33", {{80, 80}}));
  auto c = CompilePolicy(p);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->prefixes.size(), 2u);
  EXPECT_EQ(c->prefixes[0].address, Addr("10.0.0.0"));
  EXPECT_EQ(c->prefixes[1].address, Addr("2001:db8:8000::"));
}

TEST(CompilePolicyTest, ContainingRulesArePushedDownIntoLongerPrefixes) {
  spec::NetworkPolicy p;
  p.outbound.push_back(Rule("10.0.0.0/8", {{5432, 5432}}, spec::Protocol::kTcp));
  p.outbound.push_back(Rule("10.1.0.0/16", {{80, 80}}, spec::Protocol::kTcp));
  p.outbound.push_back(Rule("10.1.2.0/24", {{53, 53}}, spec::Protocol::kUdp));
  p.outbound.push_back(Rule("11.0.0.0/8", {{1, 1}}));  // does not contain the others
  auto c = CompilePolicy(p);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->prefixes.size(), 4u);
  EXPECT_EQ(Tcp(c->prefixes[0]), (Ranges{{5432, 5432}}));            // 10/8
  EXPECT_EQ(Tcp(c->prefixes[1]), (Ranges{{80, 80}, {5432, 5432}}));  // 10.1/16
  EXPECT_EQ(Tcp(c->prefixes[2]), (Ranges{{80, 80}, {5432, 5432}}));  // 10.1.2/24
  EXPECT_EQ(Udp(c->prefixes[2]), (Ranges{{53, 53}}));
  EXPECT_TRUE(Allows(*c, "10.1.2.3", IPPROTO_TCP, 5432));
  EXPECT_TRUE(Allows(*c, "10.1.2.3", IPPROTO_TCP, 80));
  EXPECT_TRUE(Allows(*c, "10.1.2.3", IPPROTO_UDP, 53));
  EXPECT_FALSE(Allows(*c, "10.1.3.3", IPPROTO_UDP, 53));
  EXPECT_FALSE(Allows(*c, "10.2.0.1", IPPROTO_TCP, 80));
  EXPECT_TRUE(Allows(*c, "10.2.0.1", IPPROTO_TCP, 5432));
}

TEST(CompilePolicyTest, SameCidrTwiceMerges) {
  spec::NetworkPolicy p;
  p.outbound.push_back(Rule("10.0.0.1/32", {{1, 10}}, spec::Protocol::kTcp));
  p.outbound.push_back(Rule("10.0.0.1/32", {{11, 20}}, spec::Protocol::kTcp));
  p.outbound.push_back(Rule("10.0.0.1/32", {{15, 30}}, spec::Protocol::kUdp));
  auto c = CompilePolicy(p);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->prefixes.size(), 1u);
  EXPECT_EQ(Tcp(c->prefixes[0]), (Ranges{{1, 20}}));
  EXPECT_EQ(Udp(c->prefixes[0]), (Ranges{{15, 30}}));
}

TEST(CompilePolicyTest, Ipv6AndIpv4AreSeparateFamilies) {
  spec::NetworkPolicy p;
  p.outbound.push_back(Rule("::/0", {{443, 443}}, spec::Protocol::kTcp));
  p.outbound.push_back(Rule("2001:db8::/32", {{5432, 5432}}, spec::Protocol::kTcp));
  p.outbound.push_back(Rule("0.0.0.0/0", {{53, 53}}, spec::Protocol::kUdp));
  auto c = CompilePolicy(p);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->prefixes.size(), 3u);
  EXPECT_FALSE(c->prefixes[0].ipv6);  // IPv4 sorts first
  EXPECT_TRUE(Allows(*c, "2001:db8::5", IPPROTO_TCP, 443));
  EXPECT_TRUE(Allows(*c, "2001:db8::5", IPPROTO_TCP, 5432));
  EXPECT_FALSE(Allows(*c, "2001:db9::5", IPPROTO_TCP, 5432));
  EXPECT_FALSE(Allows(*c, "2001:db8::5", IPPROTO_UDP, 53));
  EXPECT_TRUE(Allows(*c, "8.8.8.8", IPPROTO_UDP, 53));
  EXPECT_FALSE(Allows(*c, "8.8.8.8", IPPROTO_TCP, 443));
}

TEST(CompilePolicyTest, InboundGrantsPerProtocolSortedAndUnique) {
  spec::NetworkPolicy p;
  spec::InboundRule a, b, d;
  a.port = 8080;
  b.port = 53;
  b.protocol = spec::Protocol::kAny;
  d.port = 8080;
  p.inbound = {a, b, d};
  auto c = CompilePolicy(p);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->inbound, (std::vector<std::pair<uint16_t, uint8_t>>{
                            {53, IPPROTO_TCP}, {53, IPPROTO_UDP}, {8080, IPPROTO_TCP}}));
  EXPECT_EQ(c->flags, NET_POLICY_ALLOW_TCP | NET_POLICY_ALLOW_UDP);
}

TEST(CompilePolicyTest, MalformedRulesAreRefusedWithTheirPointer) {
  {
    spec::NetworkPolicy p;
    p.outbound.push_back(Rule("10.0.0.0/8"));
    p.outbound[0].cidr.prefix_len = 33;
    auto c = CompilePolicy(p);
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.status().message().find("/entrypoints/e/network/outbound/0"), std::string::npos);
  }
  {
    spec::NetworkPolicy p;
    p.outbound.push_back(Rule("::/0"));
    p.outbound[0].cidr.prefix_len = 129;
    EXPECT_FALSE(CompilePolicy(p).ok());
  }
  {
    spec::NetworkPolicy p;
    p.outbound.push_back(Rule("10.0.0.0/8", {{90, 80}}));
    auto c = CompilePolicy(p);
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.status().message().find("inverted"), std::string::npos);
  }
  {
    spec::NetworkPolicy p;
    p.inbound.push_back(spec::InboundRule{});
    EXPECT_FALSE(CompilePolicy(p).ok());
  }
}

TEST(CompilePolicyTest, TooManyRangesForOnePrefixIsAnErrorNamingIt) {
  spec::NetworkPolicy p;
  std::vector<spec::PortRange> ports;
  for (int i = 0; i <= NET_MAX_RANGES; ++i) {
    ports.push_back({static_cast<uint16_t>(1000 + 2 * i), static_cast<uint16_t>(1000 + 2 * i)});
  }
  p.outbound.push_back(Rule("10.0.0.0/8", ports, spec::Protocol::kTcp));
  auto c = CompilePolicy(p);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("10.0.0.0/8"), std::string::npos) << c.status();
  // Exactly the limit fits.
  ports.pop_back();
  p.outbound[0].ports = ports;
  EXPECT_TRUE(CompilePolicy(p).ok());
}

TEST(CompilePolicyTest, TenThousandRules) {
  spec::NetworkPolicy p;
  for (int i = 0; i < 10000; ++i) {
    spec::OutboundRule r;
    r.cidr.address = {10, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i & 0xff), 1};
    r.cidr.prefix_len = 32;
    r.ports = {{static_cast<uint16_t>(1000 + i % 50), static_cast<uint16_t>(1000 + i % 50)}};
    r.protocol = spec::Protocol::kTcp;
    p.outbound.push_back(r);
  }
  p.outbound.push_back(Rule("10.0.0.0/8", {{443, 443}}, spec::Protocol::kTcp));
  auto c = CompilePolicy(p);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->prefixes.size(), 10001u);
  EXPECT_TRUE(Allows(*c, "10.0.5.1", IPPROTO_TCP, 1005));
  EXPECT_TRUE(Allows(*c, "10.0.5.1", IPPROTO_TCP, 443));
  EXPECT_FALSE(Allows(*c, "10.0.5.1", IPPROTO_TCP, 1006));
  EXPECT_TRUE(Allows(*c, "10.200.5.1", IPPROTO_TCP, 443));
}

// The property, on random nested policies: compiled == spec for random destinations.
TEST(CompilePolicyTest, CompiledFormAgreesWithTheSpecOnRandomPolicies) {
  std::mt19937 rng(42);
  for (int round = 0; round < 300; ++round) {
    spec::NetworkPolicy p;
    const bool v6 = round % 3 == 0;
    const int rules = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < rules; ++i) {
      spec::OutboundRule r;
      r.cidr.ipv6 = v6;
      // A small address space (first byte and a few bits) so that rules nest and overlap.
      r.cidr.address[0] = 10;
      r.cidr.address[1] = static_cast<uint8_t>(rng() % 4);
      r.cidr.address[v6 ? 15 : 3] = static_cast<uint8_t>(rng() % 4);
      r.cidr.prefix_len = static_cast<uint8_t>(rng() % ((v6 ? 128 : 32) + 1));
      const int nports = static_cast<int>(rng() % 4);
      for (int k = 0; k < nports; ++k) {
        uint16_t a = static_cast<uint16_t>(rng() % 40), b = static_cast<uint16_t>(rng() % 40);
        r.ports.push_back({std::min(a, b), std::max(a, b)});
      }
      r.protocol = static_cast<spec::Protocol>(rng() % 3);
      p.outbound.push_back(r);
    }
    auto c = CompilePolicy(p);
    ASSERT_TRUE(c.ok()) << c.status();
    for (int probe = 0; probe < 200; ++probe) {
      std::array<uint8_t, 16> a{};
      a[0] = rng() % 8 == 0 ? 11 : 10;
      a[1] = static_cast<uint8_t>(rng() % 4);
      a[v6 ? 15 : 3] = static_cast<uint8_t>(rng() % 4);
      const int proto = rng() % 2 ? IPPROTO_TCP : IPPROTO_UDP;
      const uint16_t port = static_cast<uint16_t>(rng() % 45);
      ASSERT_EQ(CompiledAllows(*c, v6, a, proto, port), SpecAllows(p, v6, a, proto, port))
          << "round " << round << " probe " << probe;
    }
  }
}

}  // namespace
}  // namespace shim::net
