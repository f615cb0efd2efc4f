// Network policy through `shim-bpf run` and `shim-bpf audit`, against listeners on loopback
// aliases this test opens (127.0.0.2 is granted, 127.0.0.3 is not).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "e2e/run/run_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/privileged.h"
#include "support/subprocess.h"

namespace shim::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kShim = BuiltBinary("shim-bpf");

// A socket bound on `address`, port chosen by the kernel: listening (TCP), or receiving (UDP).
class Peer {
 public:
  explicit Peer(const char* address, int type = SOCK_STREAM) {
    fd_ = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    inet_pton(AF_INET, address, &in.sin_addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&in), sizeof(in));
    if (type == SOCK_STREAM) listen(fd_, 16);
    socklen_t length = sizeof(in);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&in), &length);
    port_ = ntohs(in.sin_port);
  }
  ~Peer() { close(fd_); }
  std::string port() const { return std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(NetworkE2e, OutboundGrantsAllowExactlyTheGrantedHostAndPort) {
  SHIM_REQUIRE_PRIVILEGED();
  Peer granted("127.0.0.2"), other_port("127.0.0.2"), other_host("127.0.0.3");
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"("connect": {
      "args": ["BinaryName", "Entrypoint", "Trailing"], "environment": ["Stdout"],
      "network": {"outbound": [{"cidr": "127.0.0.2/32", "ports": [)" +
                                   granted.port() + R"(], "protocol": "tcp"}]}})");
  CommandResult r = RunCommand({kShim, "run", "-q", spec, "--events", dir.events_path(), "--",
                                "127.0.0.2", granted.port(), other_port.port()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("connect 127.0.0.2:" + granted.port() + ": ok"));
  EXPECT_THAT(r.out,
              HasSubstr("connect 127.0.0.2:" + other_port.port() + ": Operation not permitted"));
  CommandResult host = RunCommand({kShim, "run", "-q", spec, "--", "127.0.0.3", other_host.port()});
  EXPECT_THAT(host.out,
              HasSubstr("connect 127.0.0.3:" + other_host.port() + ": Operation not permitted"));
  auto denials = EventsOf(dir.Events(), "denial");
  ASSERT_EQ(denials.size(), 1u);
  EXPECT_EQ(denials[0]["entrypoint"], "connect");
  EXPECT_EQ(denials[0]["verdict"], "denied");
  EXPECT_EQ(denials[0]["address"], "127.0.0.2");
  EXPECT_EQ(denials[0]["port"].get<int>(), std::stoi(other_port.port()));
}

// tests/e2e/run/net_escape_probe.c tries 30 ways past a TCP and a UDP grant from inside a void
// of `shim-bpf run`: other ports, hosts and address families, v4-mapped and padded addresses,
// TCP Fast Open, a UDP socket's cached verdict, sendmmsg, connected UDP, ungranted binds, socket
// kinds no policy grants, and changes through NETLINK_ROUTE. Allowed controls run alongside, so a
// broken network cannot pass for a denial.
TEST(NetworkE2e, BypassBatteryFindsNoWayPastTheGrants) {
  SHIM_REQUIRE_PRIVILEGED();
  Peer tcp("127.0.0.2");
  Peer udp("127.0.0.2", SOCK_DGRAM);
  RunFixtureDir dir;
  const std::string spec = dir.path() + "/spec.json";
  std::ofstream(spec) << R"({"binary": ")" << NET_ESCAPE_PROBE << R"(", "entrypoints": {
      "probe": {"args": ["BinaryName", "Entrypoint", "Trailing"],
                "environment": ["Stdout", "Stderr"],
                "network": {"outbound": [
                  {"cidr": "127.0.0.2/32", "ports": [)"
                      << tcp.port() << R"(], "protocol": "tcp"},
                  {"cidr": "127.0.0.2/32", "ports": [)"
                      << udp.port() << R"(], "protocol": "udp"}]}}}})";
  CommandResult r = RunCommand(
      {kShim, "run", "-q", spec, "--events", dir.events_path(), "--", tcp.port(), udp.port()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  int passes = 0;
  for (absl::string_view line : absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "PASS ")) ++passes;
    EXPECT_FALSE(absl::StartsWith(line, "FAIL ")) << line;
  }
  EXPECT_EQ(passes, 35) << r.out;
  EXPECT_THAT(r.out, HasSubstr("probe: 0 failed"));
  // Each denial the BPF hooks made reached --events.
  EXPECT_GE(EventsOf(dir.Events(), "denial").size(), 10u);
}

TEST(NetworkE2e, NoNetworkBlockMeansNoNetwork) {
  SHIM_REQUIRE_PRIVILEGED();
  Peer host("127.0.0.2");
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"("connect": {
      "args": ["BinaryName", "Entrypoint", "Trailing"], "environment": ["Stdout"]})");
  CommandResult r = RunCommand({kShim, "run", "-q", spec, "--", "127.0.0.2", host.port()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr(": ok")));
}

// Two network-less entrypoints share the run's empty network namespace, where the run loads no
// abstract-unix BPF program: Landlock's scope in each void is what keeps one from reaching the
// other's abstract socket (both may make unix sockets, so that the scope is what is tested).
TEST(NetworkE2e, VoidsWithoutNetworkCannotReachEachOthersAbstractSockets) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"(
      "abstract-listen": {"args": ["BinaryName", "Entrypoint", "Trailing"],
                          "environment": ["Stdout"], "unix_sockets": true},
      "abstract-connect": {"args": ["BinaryName", "Entrypoint", "Trailing"],
                           "environment": ["Stdout"], "unix_sockets": true})");
  const std::string name = "shim-e2e-abstract-" + std::to_string(getpid());
  CommandResult r = RunCommand({kShim, "run", "-q", spec, "--", name});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("abstract-connect: Operation not permitted"));
  EXPECT_THAT(r.out, HasSubstr("abstract-listen: nobody came"));
}

TEST(NetworkE2e, OnePolicyDoesNotLeakIntoAnotherEntrypoint) {
  SHIM_REQUIRE_PRIVILEGED();
  Peer target("127.0.0.2");
  RunFixtureDir dir;
  // "connect" is granted; "print" is a second entrypoint with a network block that grants
  // nothing, started by the same run: it may not use the first one's grant.
  std::string spec = dir.WriteSpec(R"(
      "connect": {"args": ["BinaryName", "Entrypoint", "Trailing"], "environment": ["Stdout"],
                  "network": {"outbound": [{"cidr": "127.0.0.2/32"}]}},
      "send-too": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "p"}}, "Trailing"]},
      "handler": {"trigger": {"Pipe": "p"}, "args": ["BinaryName", "Entrypoint", "Trigger"],
                  "environment": ["Stdout"], "network": {"outbound": []}})");
  CommandResult r = RunCommand(
      {kShim, "run", "-q", spec, "--events", dir.events_path(), "--", "127.0.0.2", target.port()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("connect 127.0.0.2:" + target.port() + ": ok"));
  for (const auto& denial : EventsOf(dir.Events(), "denial")) {
    EXPECT_NE(denial["entrypoint"], "connect") << denial.dump();
  }
}

TEST(NetworkE2e, AuditAllowsEverythingReportsItAndSuggestsAPolicy) {
  SHIM_REQUIRE_PRIVILEGED();
  Peer target("127.0.0.3");
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"("connect": {
      "args": ["BinaryName", "Entrypoint", "Trailing"], "environment": ["Stdout"]})");
  CommandResult r = RunCommand(
      {kShim, "audit", spec, "--events", dir.events_path(), "--", "127.0.0.3", target.port()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("connect 127.0.0.3:" + target.port() + ": ok"));
  EXPECT_THAT(r.err, HasSubstr("would deny connect4 127.0.0.3:" + target.port()));
  EXPECT_THAT(r.err, HasSubstr("127.0.0.3/32"));
  auto denials = EventsOf(dir.Events(), "denial");
  ASSERT_FALSE(denials.empty());
  EXPECT_EQ(denials[0]["verdict"], "audited");
}

}  // namespace
}  // namespace shim::testing
