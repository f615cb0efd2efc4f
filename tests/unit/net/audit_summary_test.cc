#include "net/audit_summary.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace shim::net {
namespace {

Denial Out(const std::string& ep, const std::string& addr, uint16_t port, int proto,
           int family = AF_INET) {
  Denial d;
  d.verdict = Verdict::kAudited;
  d.entrypoint = ep;
  d.direction = Direction::kOutbound;
  d.hook = family == AF_INET ? "connect4" : "connect6";
  d.family = family;
  d.address = addr;
  d.port = port;
  d.protocol = proto;
  d.sock_type = proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
  return d;
}

TEST(AuditSummaryTest, SuggestsExactlyWhatWasSeen) {
  AuditSummary s;
  s.Add(Out("client", "10.0.0.9", 5432, IPPROTO_TCP));
  s.Add(Out("client", "10.0.0.9", 5432, IPPROTO_TCP));
  for (uint16_t p = 8000; p <= 8003; ++p) s.Add(Out("client", "10.0.0.9", p, IPPROTO_TCP));
  s.Add(Out("client", "10.0.0.2", 53, IPPROTO_UDP));
  s.Add(Out("client", "2001:db8::1", 443, IPPROTO_TCP, AF_INET6));
  Denial bind;
  bind.verdict = Verdict::kAudited;
  bind.entrypoint = "server";
  bind.direction = Direction::kInbound;
  bind.hook = "bind4";
  bind.port = 8080;
  bind.protocol = IPPROTO_TCP;
  s.Add(bind);
  Denial raw;
  raw.verdict = Verdict::kAudited;
  raw.entrypoint = "server";
  raw.direction = Direction::kSocket;
  raw.hook = "sock_create";
  raw.family = AF_INET;
  raw.sock_type = SOCK_RAW;
  raw.protocol = IPPROTO_ICMP;
  s.Add(raw);
  Denial dropped;
  dropped.verdict = Verdict::kDropped;
  dropped.dropped = 3;
  s.Add(dropped);

  auto blocks = s.SuggestedNetworkBlocks();
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks["client"].dump(),
            R"({"mode":"enforce","outbound":[{"cidr":"10.0.0.2/32","ports":[53],"protocol":"udp"},)"
            R"({"cidr":"10.0.0.9/32","ports":[5432,"8000-8003"],"protocol":"tcp"},)"
            R"({"cidr":"2001:db8::1/128","ports":[443],"protocol":"tcp"}],"inbound":[]})");
  EXPECT_EQ(blocks["server"].dump(),
            R"({"mode":"enforce","outbound":[],"inbound":[{"port":8080,"protocol":"tcp"}]})");
  const std::string text = s.Text();
  EXPECT_NE(text.find("connect4=7"), std::string::npos) << text;
  EXPECT_NE(text.find("not grantable by any policy: socket(family 2, type 3, protocol 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("3 report(s) lost"), std::string::npos) << text;
  EXPECT_EQ(s.dropped(), 3u);
}

// Abstract unix names are counted per hook and listed as ungrantable; they never become a CIDR in
// the suggested block.
TEST(AuditSummaryTest, AbstractUnixReportsAreCountedNotSuggested) {
  AuditSummary s;
  for (const char* hook : {"connect_unix", "sendmsg_unix"}) {
    Denial d = Out("app", "@squat", 0, 0, AF_UNIX);
    d.hook = hook;
    d.sock_type = SOCK_STREAM;
    s.Add(d);
  }
  EXPECT_TRUE(s.SuggestedNetworkBlocks().empty());
  const std::string text = s.Text();
  EXPECT_NE(text.find("connect_unix=1 sendmsg_unix=1"), std::string::npos) << text;
  EXPECT_NE(text.find("not grantable by any policy: abstract unix socket @squat (connect_unix)"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("/32"), std::string::npos) << text;
}

}  // namespace
}  // namespace shim::net
