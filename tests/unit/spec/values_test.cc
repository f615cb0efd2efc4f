#include "spec/values.h"

#include "gtest/gtest.h"

namespace shim::spec {
namespace {

TEST(ParseSize, AcceptsBinaryUnits) {
  EXPECT_EQ(*ParseSize("64M"), 64u << 20);
  EXPECT_EQ(*ParseSize("64MiB"), 64u << 20);
  EXPECT_EQ(*ParseSize("1g"), 1u << 30);
  EXPECT_EQ(*ParseSize("512k"), 512u << 10);
  EXPECT_EQ(*ParseSize("4096"), 4096u);
  EXPECT_EQ(*ParseSize("4096B"), 4096u);
}

TEST(ParseSize, RejectsGarbageZeroAndOverflow) {
  for (const char* bad : {"", "M", "64 M", "64X", "-1", "0", "0M", "99999999999999999999",
                          "20000000000T", "1.5G"}) {
    EXPECT_FALSE(ParseSize(bad).ok()) << bad;
  }
}

TEST(ParseDuration, AcceptsGoStyleDurations) {
  EXPECT_EQ(*ParseDuration("30s"), absl::Seconds(30));
  EXPECT_EQ(*ParseDuration("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseDuration("1m30s"), absl::Seconds(90));
  EXPECT_EQ(*ParseDuration("2h"), absl::Hours(2));
}

TEST(ParseDuration, RejectsZeroNegativeHugeAndGarbage) {
  for (const char* bad : {"", "soon", "0s", "-5s", "5", "1000h", "inf", "s"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(ParseCpuPercent, AcceptsPercentOfOneCpu) {
  EXPECT_EQ(*ParseCpuPercent("50%"), 50u);
  EXPECT_EQ(*ParseCpuPercent("200%"), 200u);
  for (const char* bad : {"50", "0%", "6401%", "%", "half", "5 %"}) {
    EXPECT_FALSE(ParseCpuPercent(bad).ok()) << bad;
  }
}

TEST(ParseSocketAddress, ParsesIpv4AndIpv6) {
  absl::StatusOr<SocketAddress> v4 = ParseSocketAddress("127.0.0.1:8080");
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_FALSE(v4->ipv6);
  EXPECT_EQ(v4->port, 8080);
  EXPECT_EQ(v4->address[0], 127);
  absl::StatusOr<SocketAddress> v6 = ParseSocketAddress("[::1]:443");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_TRUE(v6->ipv6);
  EXPECT_EQ(v6->address[15], 1);
  for (const char* bad : {"localhost:80", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "::1:80",
                          "[::1]80", "1.2.3.4:80x", ":80"}) {
    EXPECT_FALSE(ParseSocketAddress(bad).ok()) << bad;
  }
}

TEST(ParseCidr, ParsesNetworksAndHostsAndRejectsHostBits) {
  absl::StatusOr<Cidr> net = ParseCidr("10.1.0.0/16");
  ASSERT_TRUE(net.ok()) << net.status();
  EXPECT_EQ(net->prefix_len, 16);
  EXPECT_EQ(net->address[1], 1);
  EXPECT_EQ(ParseCidr("192.0.2.7")->prefix_len, 32);
  EXPECT_EQ(ParseCidr("::/0")->prefix_len, 0);
  EXPECT_TRUE(ParseCidr("fd00::/8")->ipv6);
  EXPECT_EQ(ParseCidr("0.0.0.0/0")->prefix_len, 0);
  for (const char* bad : {"10.0.0.1/8", "10.0.0.0/33", "fd00::/129", "10.0.0/8", "10.0.0.0/",
                          "10.0.0.0/x", "", "/8", "fd00::1/8"}) {
    EXPECT_FALSE(ParseCidr(bad).ok()) << bad;
  }
}

TEST(ParsePortRange, ParsesPortsAndRanges) {
  EXPECT_EQ(ParsePortRange("443")->first, 443);
  EXPECT_EQ(ParsePortRange("443")->last, 443);
  EXPECT_EQ(ParsePortRange("8000-8099")->last, 8099);
  for (const char* bad : {"0", "65536", "9000-8000", "1-", "-5", "a-b", "1--2", ""}) {
    EXPECT_FALSE(ParsePortRange(bad).ok()) << bad;
  }
}

TEST(EntrypointNames, AreSafeArgvWordsAndDirectoryNames) {
  for (const char* good : {"main", "request_handler", "h2", "a.b-c", "_x"}) {
    EXPECT_TRUE(IsValidEntrypointName(good)) << good;
  }
  for (const char* bad : {"", "-rf", ".hidden", "..", "a/b", "two words", "tab\t", "é",
                          "a\nb"}) {
    EXPECT_FALSE(IsValidEntrypointName(bad)) << bad;
  }
  EXPECT_TRUE(IsValidEntrypointName(std::string(64, 'a')));
  EXPECT_FALSE(IsValidEntrypointName(std::string(65, 'a')));
}

}  // namespace
}  // namespace shim::spec
