// The network policy programs, for real: a run cgroup beneath this process's own v2 cgroup, the
// Firewall attached to it, forked children moved into entrypoint cgroups below it doing socket
// operations and reporting errno over a pipe. Targets are listeners on loopback aliases
// (127.0.0.2 and 127.0.0.3 work on lo without configuration) created by the test process, which
// sits outside the run cgroup and is not policed.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cgroup/cgroup2.h"
#include "common/unique_fd.h"
#include "net/firewall.h"
#include "net/policy.h"
#include "net/socket_in_cgroup.h"
#include "net_policy.skel.h"
#include "support/privileged.h"

namespace shim::net {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

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

spec::OutboundRule Rule(const std::string& cidr, std::vector<spec::PortRange> ports,
                        spec::Protocol protocol = spec::Protocol::kAny) {
  spec::OutboundRule r;
  r.cidr = ParseCidr(cidr);
  r.ports = std::move(ports);
  r.protocol = protocol;
  return r;
}

CompiledPolicy Compile(const spec::NetworkPolicy& p) {
  auto c = CompilePolicy(p);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : CompiledPolicy{};
}

sockaddr_in V4(const char* ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

sockaddr_in6 V6(const char* ip, uint16_t port) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  inet_pton(AF_INET6, ip, &a.sin6_addr);
  return a;
}

// A listening (TCP) or bound (UDP) socket of the test process on ip:port (port 0: any).
UniqueFd Listen(const char* ip, uint16_t port, int type = SOCK_STREAM) {
  UniqueFd fd(socket(AF_INET, type | SOCK_CLOEXEC, 0));
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a = V4(ip, port);
  EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << strerror(errno);
  if (type == SOCK_STREAM) {
    EXPECT_EQ(listen(fd.get(), 64), 0);
  }
  return fd;
}

uint16_t LocalPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

// 0 on success, else errno.
int Errno(int rc) { return rc == 0 ? 0 : errno; }

int ConnectTo(int family, int type, const sockaddr* addr, socklen_t len) {
  int fd = socket(family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int rc = Errno(connect(fd, addr, len));
  close(fd);
  return rc;
}

int Connect4(const char* ip, uint16_t port, int type = SOCK_STREAM) {
  sockaddr_in a = V4(ip, port);
  return ConnectTo(AF_INET, type, reinterpret_cast<sockaddr*>(&a), sizeof(a));
}

int Connect6(const char* ip, uint16_t port, int type = SOCK_STREAM) {
  sockaddr_in6 a = V6(ip, port);
  return ConnectTo(AF_INET6, type, reinterpret_cast<sockaddr*>(&a), sizeof(a));
}

int SendTo4(const char* ip, uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  sockaddr_in a = V4(ip, port);
  int rc = sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 1 ? 0 : errno;
  close(fd);
  return rc;
}

int Bind4(int type, const char* ip, uint16_t port) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  sockaddr_in a = V4(ip, port);
  int rc = Errno(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)));
  close(fd);
  return rc;
}

int SocketErrno(int family, int type, int protocol) {
  int fd = socket(family, type | SOCK_CLOEXEC, protocol);
  if (fd < 0) return errno;
  close(fd);
  return 0;
}

// A forked child inside `cgroup_dir` (it moves itself there first) that runs `fn` with a pipe to
// the test (`out`) and one from it (`in`); fn's return is the exit code.
class Child {
 public:
  Child(const std::string& cgroup_dir, std::function<int(int out, int in)> fn) {
    int to_parent[2], to_child[2];
    EXPECT_EQ(pipe2(to_parent, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(to_child, O_CLOEXEC), 0);
    pid_ = fork();
    if (pid_ == 0) {
      close(to_parent[0]);
      close(to_child[1]);
      const std::string procs = cgroup_dir + "/cgroup.procs";
      int fd = open(procs.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write(fd, "0", 1) != 1) _exit(120);
      close(fd);
      _exit(fn(to_parent[1], to_child[0]));
    }
    close(to_parent[1]);
    close(to_child[0]);
    from_child_.reset(to_parent[0]);
    to_child_.reset(to_child[1]);
  }
  ~Child() {
    if (pid_ > 0) Wait();
  }
  int from_child() const { return from_child_.get(); }
  int to_child() const { return to_child_.get(); }
  // The exit code (or 1000 + signal).
  int Wait() {
    to_child_.reset();
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  UniqueFd from_child_;
  UniqueFd to_child_;
};

// Runs `op` in a child inside `cgroup_dir` and returns its result (an errno, 0 for success).
int RunIn(const std::string& cgroup_dir, const std::function<int()>& op) {
  Child child(cgroup_dir, [&](int, int) { return op(); });
  return child.Wait();
}

class FirewallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SHIM_REQUIRE_PRIVILEGED();
    auto own = OwnCgroup2Dir();
    ASSERT_TRUE(own.ok()) << own.status();
    auto run = OwnedCgroup::Create(*own, absl::StrCat("shim-net-test-", getpid()));
    ASSERT_TRUE(run.ok()) << run.status();
    run_ = std::make_unique<OwnedCgroup>(std::move(*run));
    ep_a_ = MakeChild(*run_, "a");
    ep_b_ = MakeChild(*run_, "b");
    tcp2_ = Listen("127.0.0.2", 0);
    port_ = LocalPort(tcp2_.get());
    tcp3_ = Listen("127.0.0.3", port_);
    udp2_ = Listen("127.0.0.2", 0, SOCK_DGRAM);
    udp_port_ = LocalPort(udp2_.get());
    udp3_ = Listen("127.0.0.3", udp_port_, SOCK_DGRAM);
  }

  std::unique_ptr<OwnedCgroup> MakeChild(const OwnedCgroup& parent, const std::string& name) {
    auto c = OwnedCgroup::Create(parent.path(), name);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::make_unique<OwnedCgroup>(std::move(*c)) : nullptr;
  }

  void AttachFirewall(FirewallOptions options = {}) {
    auto fw = Firewall::Attach(run_->dir_fd(), options);
    ASSERT_TRUE(fw.ok()) << fw.status();
    fw_ = std::move(*fw);
    EXPECT_TRUE(fw_->MissingGuarantees().empty());
  }

  void Install(const OwnedCgroup& ep, const std::string& name, const spec::NetworkPolicy& p) {
    ASSERT_NE(fw_, nullptr) << "the firewall did not attach";
    absl::Status s = fw_->AddEntrypoint(ep.id(), name, Compile(p));
    ASSERT_TRUE(s.ok()) << s;
  }

  std::vector<Denial> Drain() {
    std::vector<Denial> out;
    EXPECT_TRUE(fw_->ConsumeDenials([&](const Denial& d) { out.push_back(d); }).ok());
    return out;
  }

  // Declared in this order so the firewall goes before the cgroups it is attached to.
  std::unique_ptr<OwnedCgroup> run_, ep_a_, ep_b_;
  std::unique_ptr<Firewall> fw_;
  UniqueFd tcp2_, tcp3_, udp2_, udp3_;
  uint16_t port_ = 0, udp_port_ = 0;
};

// Policy: TCP to 127.0.0.2:port_ only.
spec::NetworkPolicy OnlyHost2(uint16_t port) {
  spec::NetworkPolicy p;
  p.outbound.push_back(Rule("127.0.0.2/32", {{port, port}}, spec::Protocol::kTcp));
  return p;
}

TEST_F(FirewallTest, AllowedCidrAndPortConnectsOthersGetEperm) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  Install(*ep_a_, "a", OnlyHost2(port_));
  const uint16_t port = port_;
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect4("127.0.0.2", port); }), 0);
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect4("127.0.0.2", port + 1); }), EPERM);
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect4("127.0.0.3", port); }), EPERM);
  // 0.0.0.0 means this host: judged as 127.0.0.1, which is not granted.
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect4("0.0.0.0", port); }), EPERM);
  // UDP is not granted at all: no UDP socket.
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return SocketErrno(AF_INET, SOCK_DGRAM, 0); }), EPERM);
}

TEST_F(FirewallTest, InstancesDeeperThanTheEntrypointCgroupGetItsPolicy) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  Install(*ep_a_, "a", OnlyHost2(port_));
  auto instance = MakeChild(*ep_a_, "instance-1");
  auto nested = MakeChild(*instance, "nested");
  const uint16_t port = port_;
  EXPECT_EQ(RunIn(nested->path(), [&] { return Connect4("127.0.0.2", port); }), 0);
  EXPECT_EQ(RunIn(nested->path(), [&] { return Connect4("127.0.0.3", port); }), EPERM);
  std::vector<Denial> ds = Drain();
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].cgroup_id, ep_a_->id());        // judged as the entrypoint
  EXPECT_EQ(ds[0].task_cgroup_id, nested->id());  // reported with the instance
}

TEST_F(FirewallTest, CgroupWithoutPolicyGetsNoIpSocketButUnixWorks) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  Install(*ep_a_, "a", OnlyHost2(port_));
  EXPECT_EQ(RunIn(ep_b_->path(), [] { return SocketErrno(AF_INET, SOCK_STREAM, 0); }), EPERM);
  EXPECT_EQ(RunIn(ep_b_->path(), [] { return SocketErrno(AF_INET6, SOCK_DGRAM, 0); }), EPERM);
  EXPECT_EQ(RunIn(ep_b_->path(), [] { return SocketErrno(AF_UNIX, SOCK_STREAM, 0); }), 0);
  // A task in the run cgroup itself is above every entrypoint: denied too.
  EXPECT_EQ(RunIn(run_->path(), [] { return SocketErrno(AF_INET, SOCK_STREAM, 0); }), EPERM);
}

TEST_F(FirewallTest, PolicyOfOneEntrypointDoesNotLeakIntoAnother) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  spec::NetworkPolicy b;
  b.outbound.push_back(Rule("127.0.0.3/32", {{port_, port_}}, spec::Protocol::kTcp));
  Install(*ep_a_, "a", OnlyHost2(port_));
  Install(*ep_b_, "b", b);
  const uint16_t port = port_;
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect4("127.0.0.2", port); }), 0);
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect4("127.0.0.3", port); }), EPERM);
  EXPECT_EQ(RunIn(ep_b_->path(), [&] { return Connect4("127.0.0.3", port); }), 0);
  EXPECT_EQ(RunIn(ep_b_->path(), [&] { return Connect4("127.0.0.2", port); }), EPERM);
  // Removing a's policy denies a everything again and leaves b alone.
  ASSERT_TRUE(fw_->RemoveEntrypoint(ep_a_->id()).ok());
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect4("127.0.0.2", port); }), EPERM);
  EXPECT_EQ(RunIn(ep_b_->path(), [&] { return Connect4("127.0.0.3", port); }), 0);
}

TEST_F(FirewallTest, Ipv4MappedIpv6IsJudgedAsIpv4) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  Install(*ep_a_, "a", OnlyHost2(port_));
  const uint16_t port = port_;
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect6("::ffff:127.0.0.2", port); }), 0);
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect6("::ffff:127.0.0.3", port); }), EPERM);
  // :: is this host (judged as ::1), not granted.
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect6("::", port); }), EPERM);
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect6("::1", port); }), EPERM);
}

TEST_F(FirewallTest, Ipv6RulesJudgeIpv6Destinations) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  UniqueFd l6(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 a = V6("::1", 0);
  ASSERT_EQ(bind(l6.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(l6.get(), 8), 0);
  const uint16_t port = LocalPort(l6.get());
  spec::NetworkPolicy p;
  p.outbound.push_back(Rule("::1/128", {{port, port}}));
  Install(*ep_a_, "a", p);
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect6("::1", port); }), 0);
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect6("::1", port + 1); }), EPERM);
  // An IPv6 rule does not grant the IPv4 loopback.
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect4("127.0.0.1", port); }), EPERM);
}

TEST_F(FirewallTest, UdpSendtoAndConnectedUdp) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  spec::NetworkPolicy p;
  p.outbound.push_back(Rule("127.0.0.2/32", {{udp_port_, udp_port_}}, spec::Protocol::kUdp));
  Install(*ep_a_, "a", p);
  const uint16_t port = udp_port_;
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return SendTo4("127.0.0.2", port); }), 0);
  char buf[8];
  EXPECT_EQ(recv(udp2_.get(), buf, sizeof(buf), MSG_DONTWAIT), 1);
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return SendTo4("127.0.0.3", port); }), EPERM);
  EXPECT_EQ(recv(udp3_.get(), buf, sizeof(buf), MSG_DONTWAIT), -1);
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect4("127.0.0.3", port, SOCK_DGRAM); }), EPERM);
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect4("127.0.0.2", port, SOCK_DGRAM); }), 0);
  // A UDP rule grants no TCP.
  EXPECT_EQ(RunIn(ep_a_->path(), [] { return SocketErrno(AF_INET, SOCK_STREAM, 0); }), EPERM);
  // An AF_INET address given to an IPv6 UDP socket goes through the IPv4 hooks.
  EXPECT_EQ(RunIn(ep_a_->path(),
                  [&] {
                    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                    if (fd < 0) return errno;
                    sockaddr_in a = V4("127.0.0.3", port);
                    return sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 1
                               ? 0
                               : errno;
                  }),
            EPERM);
  EXPECT_EQ(RunIn(ep_a_->path(),
                  [&] {
                    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                    if (fd < 0) return errno;
                    sockaddr_in a = V4("127.0.0.3", port);
                    return Errno(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)));
                  }),
            EPERM);
  // A mapped address on an IPv6 UDP socket is judged by the IPv4 rules too.
  EXPECT_EQ(RunIn(ep_a_->path(),
                  [&] {
                    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                    if (fd < 0) return errno;
                    sockaddr_in6 a = V6("::ffff:127.0.0.3", port);
                    return sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 1
                               ? 0
                               : errno;
                  }),
            EPERM);
}

// sendmsg4/6 keep each socket's last allowed destination (bpf/net_policy.bpf.c): the cache may
// only ever skip a judgement that would allow the same datagram again.
int SendOn(int fd, const char* ip, uint16_t port) {
  sockaddr_in a = V4(ip, port);
  return sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 1 ? 0 : errno;
}

// Runs `use` on a new IPv4 UDP socket in a child inside `cgroup_dir`; returns its result (100 if
// the socket could not be made).
int RunWithUdpSocket(const std::string& cgroup_dir, const std::function<int(int fd)>& use) {
  return RunIn(cgroup_dir, [&] {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    return fd < 0 ? 100 : use(fd);
  });
}

// Policy: UDP to `host`:`port` only.
spec::NetworkPolicy OnlyUdpTo(const std::string& host, uint16_t port,
                              spec::NetworkMode mode = spec::NetworkMode::kEnforce) {
  spec::NetworkPolicy p;
  p.mode = mode;
  p.outbound.push_back(Rule(host + "/32", {{port, port}}, spec::Protocol::kUdp));
  return p;
}

TEST_F(FirewallTest, UdpVerdictCacheOnlyRepeatsTheSameAllowedDestination) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  Install(*ep_a_, "a", OnlyUdpTo("127.0.0.2", udp_port_));
  const uint16_t port = udp_port_;
  // One socket, in turn: allowed, allowed again (cached), another host, another port, back.
  EXPECT_EQ(RunWithUdpSocket(ep_a_->path(),
                             [&](int fd) {
                               const int results[] = {
                                   SendOn(fd, "127.0.0.2", port), SendOn(fd, "127.0.0.2", port),
                                   SendOn(fd, "127.0.0.3", port), SendOn(fd, "127.0.0.2", port + 1),
                                   SendOn(fd, "127.0.0.2", port)};
                               const int expected[] = {0, 0, EPERM, EPERM, 0};
                               for (int i = 0; i < 5; ++i) {
                                 if (results[i] != expected[i]) return 10 + i;
                               }
                               return 0;
                             }),
            0);
}

TEST_F(FirewallTest, UdpVerdictCacheIsPerEntrypointNotPerSocket) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  Install(*ep_a_, "a", OnlyUdpTo("127.0.0.2", udp_port_));
  Install(*ep_b_, "b", OnlyUdpTo("127.0.0.3", udp_port_));
  const uint16_t port = udp_port_;
  const std::string b_procs = ep_b_->path() + "/cgroup.procs";
  // A socket that a's policy let send, carried into b (as a passed fd would be), is judged by
  // b's policy: the verdict cached for a does not hold for b.
  EXPECT_EQ(RunWithUdpSocket(ep_a_->path(),
                             [&](int fd) {
                               if (SendOn(fd, "127.0.0.2", port) != 0) return 101;
                               int procs = open(b_procs.c_str(), O_WRONLY | O_CLOEXEC);
                               if (procs < 0 || write(procs, "0", 1) != 1) return 102;
                               if (SendOn(fd, "127.0.0.2", port) != EPERM) return 103;
                               return SendOn(fd, "127.0.0.3", port);
                             }),
            0);
}

TEST_F(FirewallTest, UdpVerdictCacheDoesNotOutliveARemovedPolicy) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  Install(*ep_a_, "a", OnlyUdpTo("127.0.0.2", udp_port_));
  const uint16_t port = udp_port_;
  Child child(ep_a_->path(), [port](int out, int in) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 100;
    const int first = SendOn(fd, "127.0.0.2", port);
    if (write(out, &first, sizeof(first)) != sizeof(first)) return 101;
    char go;
    if (read(in, &go, 1) != 1) return 102;
    return SendOn(fd, "127.0.0.2", port);
  });
  int first = -1;
  ASSERT_EQ(read(child.from_child(), &first, sizeof(first)), static_cast<ssize_t>(sizeof(first)));
  EXPECT_EQ(first, 0);
  ASSERT_TRUE(fw_->RemoveEntrypoint(ep_a_->id()).ok());
  ASSERT_EQ(write(child.to_child(), "g", 1), 1);
  EXPECT_EQ(child.Wait(), EPERM);
}

TEST_F(FirewallTest, AuditedUdpDatagramsAreReportedEveryTime) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  Install(*ep_a_, "a", OnlyUdpTo("127.0.0.2", udp_port_, spec::NetworkMode::kAudit));
  const uint16_t port = udp_port_;
  EXPECT_EQ(RunWithUdpSocket(ep_a_->path(),
                             [&](int fd) {
                               for (int i = 0; i < 3; ++i) {
                                 if (SendOn(fd, "127.0.0.3", port) != 0) return 101 + i;
                               }
                               return 0;
                             }),
            0);
  int audited = 0;
  for (const Denial& d : Drain()) {
    if (d.verdict == Verdict::kAudited && d.hook == "sendmsg4" && d.address == "127.0.0.3") {
      ++audited;
    }
  }
  EXPECT_EQ(audited, 3);
}

// The child binds UDP on 127.0.0.1:`port` (0: ephemeral), reports its port, waits for the test's
// go, then reads for 300 ms: returns a bit set of payloads seen ('2' -> 1, '3' -> 2).
std::function<int(int, int)> UdpReceiver(uint16_t port) {
  return [port](int out, int in) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 100;
    sockaddr_in a = V4("127.0.0.1", port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return 101;
    uint16_t got = LocalPort(fd);
    if (write(out, &got, sizeof(got)) != sizeof(got)) return 102;
    char go;
    if (read(in, &go, 1) != 1) return 103;
    int seen = 0;
    timeval tv{0, 300000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[4];
    while (recv(fd, buf, sizeof(buf), 0) == 1) seen |= buf[0] == '2' ? 1 : 2;
    return seen;
  };
}

void SendFrom(int fd, uint16_t to_port, char payload) {
  sockaddr_in a = V4("127.0.0.1", to_port);
  ASSERT_EQ(sendto(fd, &payload, 1, 0, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 1);
}

TEST_F(FirewallTest, UdpReceiveOnlyFromAllowedPeersUnlessThePortIsGranted) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  UniqueFd probe = Listen("127.0.0.1", 0, SOCK_DGRAM);
  const uint16_t granted = LocalPort(probe.get());
  probe.reset();
  spec::NetworkPolicy p;
  p.outbound.push_back(Rule("127.0.0.2/32", {{udp_port_, udp_port_}}, spec::Protocol::kUdp));
  spec::InboundRule in;
  in.port = granted;
  in.protocol = spec::Protocol::kUdp;
  p.inbound.push_back(in);
  Install(*ep_a_, "a", p);
  {
    // Ephemeral port: only replies from 127.0.0.2:udp_port_ (an allowed destination) arrive.
    Child child(ep_a_->path(), UdpReceiver(0));
    uint16_t port = 0;
    ASSERT_EQ(read(child.from_child(), &port, sizeof(port)), 2);
    SendFrom(udp3_.get(), port, '3');
    SendFrom(udp2_.get(), port, '2');
    ASSERT_EQ(write(child.to_child(), "g", 1), 1);
    EXPECT_EQ(child.Wait(), 1);
    bool reported = false;
    for (const Denial& d : Drain()) {
      if (d.hook == "udp_recv") {
        reported = true;
        EXPECT_EQ(d.address, "127.0.0.3");
        EXPECT_EQ(d.port, udp_port_);
        EXPECT_EQ(d.direction, Direction::kInbound);
      }
    }
    EXPECT_TRUE(reported);
  }
  {
    // A granted port is a server: datagrams from anyone arrive.
    Child child(ep_a_->path(), UdpReceiver(granted));
    uint16_t port = 0;
    ASSERT_EQ(read(child.from_child(), &port, sizeof(port)), 2);
    SendFrom(udp3_.get(), port, '3');
    SendFrom(udp2_.get(), port, '2');
    ASSERT_EQ(write(child.to_child(), "g", 1), 1);
    EXPECT_EQ(child.Wait(), 3);
  }
}

TEST_F(FirewallTest, TcpFastOpenSendtoIsJudgedLikeConnect) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  Install(*ep_a_, "a", OnlyHost2(port_));
  const uint16_t port = port_;
  EXPECT_EQ(RunIn(ep_a_->path(),
                  [&] {
                    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                    if (fd < 0) return errno;
                    sockaddr_in a = V4("127.0.0.3", port);
                    return sendto(fd, "x", 1, MSG_FASTOPEN, reinterpret_cast<sockaddr*>(&a),
                                  sizeof(a)) >= 0
                               ? 0
                               : errno;
                  }),
            EPERM);
}

TEST_F(FirewallTest, BindOnlyToGrantedPortsAndEphemeral) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  // Find two free ports.
  UniqueFd probe1 = Listen("127.0.0.1", 0), probe2 = Listen("127.0.0.1", 0);
  const uint16_t granted = LocalPort(probe1.get()), other = LocalPort(probe2.get());
  probe1.reset();
  probe2.reset();
  spec::NetworkPolicy p = OnlyHost2(port_);
  spec::InboundRule in;
  in.port = granted;
  p.inbound.push_back(in);
  Install(*ep_a_, "a", p);
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Bind4(SOCK_STREAM, "127.0.0.1", granted); }), 0);
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Bind4(SOCK_STREAM, "127.0.0.1", other); }), EPERM);
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Bind4(SOCK_STREAM, "0.0.0.0", 0); }), 0);
  // The grant is TCP: no UDP socket at all for this policy.
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Bind4(SOCK_DGRAM, "127.0.0.1", granted); }), EPERM);
}

// Connects to 127.0.0.1:port from the test process, waiting up to `ms`: true if established.
bool ConnectsWithin(uint16_t port, int ms) {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in a = V4("127.0.0.1", port);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) return true;
  if (errno != EINPROGRESS) return false;
  pollfd p{fd.get(), POLLOUT, 0};
  if (poll(&p, 1, ms) != 1) return false;
  int err = 0;
  socklen_t len = sizeof(err);
  getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  return err == 0;
}

// The child listens (on `port`, or autobound when 0), reports its port, and waits.
std::function<int(int, int)> ListenAndWait(uint16_t port) {
  return [port](int out, int in) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 10;
    if (port != 0) {
      sockaddr_in a = V4("127.0.0.1", port);
      if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return 11;
    }
    if (listen(fd, 8) != 0) return 12;
    uint16_t got = LocalPort(fd);
    if (write(out, &got, sizeof(got)) != sizeof(got)) return 13;
    char c;
    (void)read(in, &c, 1);  // until the test closes its end
    return 0;
  };
}

TEST_F(FirewallTest, ListenAutobindGetsNoConnectionsGrantedListenerDoes) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  UniqueFd probe = Listen("127.0.0.1", 0);
  const uint16_t granted = LocalPort(probe.get());
  probe.reset();
  spec::NetworkPolicy p = OnlyHost2(port_);
  spec::InboundRule in;
  in.port = granted;
  p.inbound.push_back(in);
  Install(*ep_a_, "a", p);
  {
    Child child(ep_a_->path(), ListenAndWait(0));
    uint16_t autobound = 0;
    ASSERT_EQ(read(child.from_child(), &autobound, sizeof(autobound)), 2);
    ASSERT_NE(autobound, 0);
    EXPECT_FALSE(ConnectsWithin(autobound, 300)) << "autobound listener accepted a connection";
    EXPECT_EQ(child.Wait(), 0);
    bool reported = false;
    for (const Denial& d : Drain()) {
      if (d.hook == "listen" && d.port == autobound) {
        reported = true;
        EXPECT_EQ(d.direction, Direction::kInbound);
        EXPECT_EQ(d.entrypoint, "a");
        EXPECT_EQ(d.verdict, Verdict::kDenied);
      }
    }
    EXPECT_TRUE(reported);
  }
  {
    Child child(ep_a_->path(), ListenAndWait(granted));
    uint16_t got = 0;
    ASSERT_EQ(read(child.from_child(), &got, sizeof(got)), 2);
    EXPECT_EQ(got, granted);
    EXPECT_TRUE(ConnectsWithin(granted, 2000));
    EXPECT_EQ(child.Wait(), 0);
  }
}

TEST_F(FirewallTest, Ipv6ListenAutobindGetsNoConnections) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  spec::NetworkPolicy p;
  p.outbound.push_back(Rule("::1/128", {{1, 1}}, spec::Protocol::kTcp));
  Install(*ep_a_, "a", p);
  Child child(ep_a_->path(), [](int out, int in) {
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || listen(fd, 8) != 0) return 10;
    sockaddr_in6 a{};
    socklen_t len = sizeof(a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    uint16_t port = ntohs(a.sin6_port);
    if (write(out, &port, sizeof(port)) != sizeof(port)) return 11;
    char c;
    (void)read(in, &c, 1);
    return 0;
  });
  uint16_t port = 0;
  ASSERT_EQ(read(child.from_child(), &port, sizeof(port)), 2);
  UniqueFd fd(socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in6 a = V6("::1", port);
  int rc = connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a));
  bool connected = rc == 0;
  if (!connected && errno == EINPROGRESS) {
    pollfd pfd{fd.get(), POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof(err);
    connected = poll(&pfd, 1, 300) == 1 &&
                getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
  }
  EXPECT_FALSE(connected);
  EXPECT_EQ(child.Wait(), 0);
  bool reported = false;
  for (const Denial& d : Drain()) {
    if (d.hook == "listen" && d.port == port) {
      reported = true;
      EXPECT_EQ(d.family, AF_INET6);
    }
  }
  EXPECT_TRUE(reported);
}

TEST_F(FirewallTest, RawPacketAndOtherProtocolSocketsAreDenied) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  spec::NetworkPolicy p;
  p.outbound.push_back(Rule("0.0.0.0/0", {}));
  p.outbound.push_back(Rule("::/0", {}));
  Install(*ep_a_, "a", p);
  const std::string dir = ep_a_->path();
  EXPECT_EQ(RunIn(dir, [] { return SocketErrno(AF_INET, SOCK_STREAM, 0); }), 0);
  EXPECT_EQ(RunIn(dir, [] { return SocketErrno(AF_INET6, SOCK_DGRAM, 0); }), 0);
  EXPECT_EQ(RunIn(dir, [] { return SocketErrno(AF_INET, SOCK_RAW, IPPROTO_ICMP); }), EPERM);
  EXPECT_EQ(RunIn(dir, [] { return SocketErrno(AF_INET6, SOCK_RAW, IPPROTO_RAW); }), EPERM);
  // ICMP "ping" sockets: the kernel's ping_group_range check (EACCES) runs before the hook when
  // it refuses; where a host allows ping sockets, the hook refuses (EPERM).
  EXPECT_THAT(RunIn(dir, [] { return SocketErrno(AF_INET, SOCK_DGRAM, IPPROTO_ICMP); }),
              AnyOf(EPERM, EACCES));
  // SCTP: EPROTONOSUPPORT while its module is not loaded; the hook refuses it otherwise.
  EXPECT_THAT(RunIn(dir, [] { return SocketErrno(AF_INET, SOCK_STREAM, IPPROTO_SCTP); }),
              AnyOf(EPERM, EPROTONOSUPPORT));
  EXPECT_EQ(RunIn(dir, [] { return SocketErrno(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE); }), EPERM);
  EXPECT_EQ(RunIn(dir, [] { return SocketErrno(AF_INET, SOCK_STREAM, 262 /* MPTCP */); }), EPERM);
}

// An abstract unix socket of the test process (outside the run), named @shim-net-<pid>-<tag>.
UniqueFd AbstractListener(int type, const std::string& name) {
  UniqueFd fd(socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path + 1, name.data(), name.size());
  const socklen_t len = offsetof(sockaddr_un, sun_path) + 1 + name.size();
  EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len), 0) << strerror(errno);
  if (type == SOCK_STREAM) {
    EXPECT_EQ(listen(fd.get(), 8), 0);
  }
  return fd;
}

int UnixOp(int type, const std::string& path, bool abstract, bool use_sendto) {
  int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path + (abstract ? 1 : 0), path.data(), path.size());
  const socklen_t len = offsetof(sockaddr_un, sun_path) + (abstract ? 1 : 0) + path.size();
  int rc = use_sendto
               ? (sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&a), len) == 1 ? 0 : errno)
               : Errno(connect(fd, reinterpret_cast<sockaddr*>(&a), len));
  close(fd);
  return rc;
}

TEST_F(FirewallTest, AbstractUnixSocketsAreRefusedPathnameAndPairsWork) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  Install(*ep_a_, "a", OnlyHost2(port_));
  const std::string stream = absl::StrCat("shim-net-", getpid(), "-stream");
  const std::string dgram = absl::StrCat("shim-net-", getpid(), "-dgram");
  UniqueFd s = AbstractListener(SOCK_STREAM, stream);
  UniqueFd d = AbstractListener(SOCK_DGRAM, dgram);
  // Sanity: the test process (outside the run) reaches them.
  EXPECT_EQ(UnixOp(SOCK_STREAM, stream, true, false), 0);
  const std::string dir = ep_a_->path();
  EXPECT_EQ(RunIn(dir, [&] { return UnixOp(SOCK_STREAM, stream, true, false); }), EPERM);
  EXPECT_EQ(RunIn(dir, [&] { return UnixOp(SOCK_DGRAM, dgram, true, true); }), EPERM);
  EXPECT_EQ(RunIn(dir, [&] { return UnixOp(SOCK_DGRAM, dgram, true, false); }), EPERM);
  // Entrypoints without a policy are refused too.
  EXPECT_EQ(RunIn(ep_b_->path(), [&] { return UnixOp(SOCK_STREAM, stream, true, false); }), EPERM);
  // Pathname sockets are the filesystem's business.
  const std::string path = absl::StrCat("/tmp/shim-net-test-", getpid(), ".sock");
  unlink(path.c_str());
  UniqueFd p(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un pa{};
  pa.sun_family = AF_UNIX;
  std::memcpy(pa.sun_path, path.data(), path.size());
  ASSERT_EQ(bind(p.get(), reinterpret_cast<sockaddr*>(&pa), sizeof(pa)), 0);
  ASSERT_EQ(listen(p.get(), 8), 0);
  EXPECT_EQ(RunIn(dir, [&] { return UnixOp(SOCK_STREAM, path, false, false); }), 0);
  unlink(path.c_str());
  // socketpair (what trigger channels are) needs no address.
  EXPECT_EQ(RunIn(dir,
                  [] {
                    int sv[2];
                    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0) return errno;
                    return send(sv[0], "x", 1, 0) == 1 ? 0 : errno;
                  }),
            0);
  std::vector<Denial> ds = Drain();
  ASSERT_GE(ds.size(), 1u);
  EXPECT_EQ(ds[0].hook, "connect_unix");
  EXPECT_EQ(ds[0].family, AF_UNIX);
  EXPECT_EQ(ds[0].address, absl::StrCat("@", stream.substr(0, 16)));
  EXPECT_EQ(ds[0].entrypoint, "a");
}

TEST_F(FirewallTest, AuditModeAllowsAndReports) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  spec::NetworkPolicy p = OnlyHost2(port_);
  p.mode = spec::NetworkMode::kAudit;
  Install(*ep_a_, "auditor", p);
  const uint16_t port = port_;
  pid_t pid = 0;
  {
    Child child(ep_a_->path(), [&](int out, int) {
      pid_t self = getpid();
      if (write(out, &self, sizeof(self)) != sizeof(self)) return 100;
      return Connect4("127.0.0.3", port);
    });
    ASSERT_EQ(read(child.from_child(), &pid, sizeof(pid)), static_cast<ssize_t>(sizeof(pid)));
    EXPECT_EQ(child.Wait(), 0);  // allowed
  }
  std::vector<Denial> ds = Drain();
  ASSERT_EQ(ds.size(), 1u);
  const Denial& d = ds[0];
  EXPECT_EQ(d.verdict, Verdict::kAudited);
  EXPECT_EQ(d.entrypoint, "auditor");
  EXPECT_EQ(d.cgroup_id, ep_a_->id());
  EXPECT_EQ(d.task_cgroup_id, ep_a_->id());  // the child ran in the entrypoint cgroup itself
  EXPECT_EQ(d.pid, static_cast<uint32_t>(pid));
  EXPECT_EQ(d.comm, std::string("net_firewall_te").substr(0, 15));
  EXPECT_EQ(d.direction, Direction::kOutbound);
  EXPECT_EQ(d.hook, "connect4");
  EXPECT_EQ(d.family, AF_INET);
  EXPECT_EQ(d.address, "127.0.0.3");
  EXPECT_EQ(d.port, port);
  EXPECT_EQ(d.protocol, IPPROTO_TCP);
  EXPECT_EQ(d.sock_type, SOCK_STREAM);
  const std::string json = DenialToJson(d);
  EXPECT_NE(json.find("\"verdict\":\"audited\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"address\":\"127.0.0.3\""), std::string::npos) << json;
}

TEST_F(FirewallTest, DenialRecordsCarryTheRightFields) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  Install(*ep_a_, "client", OnlyHost2(port_));
  const uint16_t port = port_;
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect6("::ffff:127.0.0.3", port + 7); }), EPERM);
  // The ring buffer's fd is pollable: the report wakes a poller.
  pollfd pfd{fw_->denial_fd(), POLLIN, 0};
  EXPECT_EQ(poll(&pfd, 1, 1000), 1);
  EXPECT_EQ(RunIn(ep_a_->path(), [] { return SocketErrno(AF_INET, SOCK_RAW, IPPROTO_ICMP); }),
            EPERM);
  std::vector<Denial> ds = Drain();
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[0].verdict, Verdict::kDenied);
  EXPECT_EQ(ds[0].entrypoint, "client");
  EXPECT_EQ(ds[0].hook, "connect6");
  EXPECT_EQ(ds[0].family, AF_INET);  // mapped: reported as the IPv4 address it is
  EXPECT_EQ(ds[0].address, "127.0.0.3");
  EXPECT_EQ(ds[0].port, port + 7);
  EXPECT_EQ(ds[1].hook, "sock_create");
  EXPECT_EQ(ds[1].direction, Direction::kSocket);
  EXPECT_EQ(ds[1].sock_type, SOCK_RAW);
  EXPECT_EQ(ds[1].protocol, IPPROTO_ICMP);
  EXPECT_NE(ds[1].pid, 0u);
}

TEST_F(FirewallTest, RateLimitDropsAreCounted) {
  FirewallOptions o;
  o.denial_rate_per_sec = 1;
  o.denial_burst = 5;
  ASSERT_NO_FATAL_FAILURE(AttachFirewall(o));
  Install(*ep_a_, "a", OnlyHost2(port_));
  const uint16_t port = port_;
  constexpr int kAttempts = 60;
  EXPECT_EQ(RunIn(ep_a_->path(),
                  [&] {
                    for (int i = 0; i < kAttempts; ++i) {
                      if (Connect4("127.0.0.3", port) != EPERM) return 1;
                    }
                    return 0;
                  }),
            0);
  uint64_t records = 0, dropped = 0;
  for (const Denial& d : Drain()) {
    if (d.verdict == Verdict::kDropped) {
      dropped += d.dropped;
    } else {
      ++records;
    }
  }
  EXPECT_EQ(records + dropped, static_cast<uint64_t>(kAttempts));
  EXPECT_GE(dropped, static_cast<uint64_t>(kAttempts) - 5 * 4);  // burst per CPU, few CPUs
  EXPECT_EQ(fw_->DroppedTotal(), dropped);
}

TEST_F(FirewallTest, NothingRemainsAttachedAfterDestruction) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  Install(*ep_a_, "a", OnlyHost2(port_));
  std::vector<uint32_t> ids = fw_->ProgramIds();
  EXPECT_EQ(ids.size(), 10u);
  const bpf_attach_type types[] = {BPF_CGROUP_INET4_CONNECT,
                                   BPF_CGROUP_INET6_CONNECT,
                                   BPF_CGROUP_UDP4_SENDMSG,
                                   BPF_CGROUP_UDP6_SENDMSG,
                                   BPF_CGROUP_INET4_BIND,
                                   BPF_CGROUP_INET6_BIND,
                                   BPF_CGROUP_INET_SOCK_CREATE,
                                   BPF_CGROUP_INET_INGRESS,
                                   static_cast<bpf_attach_type>(49) /* UNIX_CONNECT */,
                                   static_cast<bpf_attach_type>(50) /* UNIX_SENDMSG */};
  for (bpf_attach_type t : types) {
    uint32_t count = 0;
    ASSERT_EQ(bpf_prog_query(run_->dir_fd(), t, 0, nullptr, nullptr, &count), 0);
    EXPECT_EQ(count, 1u) << t;
  }
  fw_.reset();
  for (bpf_attach_type t : types) {
    uint32_t count = 0;
    ASSERT_EQ(bpf_prog_query(run_->dir_fd(), t, 0, nullptr, nullptr, &count), 0);
    EXPECT_EQ(count, 0u) << t;
  }
  // Programs are freed after an RCU grace period: wait for their ids to go.
  for (uint32_t id : ids) {
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {
      int fd = bpf_prog_get_fd_by_id(id);
      if (fd < 0) {
        gone = errno == ENOENT;
      } else {
        close(fd);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    EXPECT_TRUE(gone) << "program id " << id << " still exists";
  }
  // And the cgroup is unpoliced again.
  const uint16_t port = port_;
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect4("127.0.0.3", port); }), 0);
}

// A run where no entrypoint may have an IP socket loads only socket creation and the abstract
// unix hooks: every IP socket is refused where it is created, unix rules still hold, a policy
// cannot be installed (it would not be enforced), and nothing else is attached.
TEST_F(FirewallTest, WithoutIpPolicyHooksOnlySocketCreationIsHookedAndRefused) {
  FirewallOptions options;
  options.ip_policy_hooks = false;
  ASSERT_NO_FATAL_FAILURE(AttachFirewall(options));
  EXPECT_EQ(fw_->ProgramIds().size(), 3u);
  absl::Status refused = fw_->AddEntrypoint(ep_a_->id(), "a", Compile(OnlyHost2(port_)));
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(std::string(refused.message()), HasSubstr("without the IP policy programs"));
  for (const std::string& dir : {ep_a_->path(), run_->path()}) {
    for (int family : {AF_INET, AF_INET6}) {
      for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW}) {
        const int protocol = type == SOCK_RAW ? IPPROTO_ICMP : 0;
        EXPECT_EQ(RunIn(dir, [&] { return SocketErrno(family, type, protocol); }), EPERM)
            << dir << " family " << family << " type " << type;
      }
    }
  }
  EXPECT_EQ(RunIn(ep_a_->path(), [] { return SocketErrno(AF_UNIX, SOCK_STREAM, 0); }), 0);
  const std::string name = absl::StrCat("shim-net-", getpid(), "-noip");
  UniqueFd listener = AbstractListener(SOCK_STREAM, name);
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return UnixOp(SOCK_STREAM, name, true, false); }), EPERM);
  std::vector<Denial> ds = Drain();
  ASSERT_FALSE(ds.empty());
  EXPECT_EQ(ds[0].hook, "sock_create");
  for (bpf_attach_type t : {BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_INET6_CONNECT,
                            BPF_CGROUP_UDP4_SENDMSG, BPF_CGROUP_UDP6_SENDMSG, BPF_CGROUP_INET4_BIND,
                            BPF_CGROUP_INET6_BIND, BPF_CGROUP_INET_INGRESS}) {
    uint32_t count = 0;
    ASSERT_EQ(bpf_prog_query(run_->dir_fd(), t, 0, nullptr, nullptr, &count), 0);
    EXPECT_EQ(count, 0u) << t;
  }
  uint32_t count = 0;
  ASSERT_EQ(
      bpf_prog_query(run_->dir_fd(), BPF_CGROUP_INET_SOCK_CREATE, 0, nullptr, nullptr, &count), 0);
  EXPECT_EQ(count, 1u);
}

// A run whose voids all sit in the empty netns under Landlock's abstract-socket scope skips the
// abstract unix programs: only sock_create is attached, and unix sockets are left to those layers.
TEST_F(FirewallTest, WithoutUnixHooksNothingJudgesUnixSockets) {
  FirewallOptions options;
  options.ip_policy_hooks = false;
  options.unix_hooks = false;
  ASSERT_NO_FATAL_FAILURE(AttachFirewall(options));
  EXPECT_EQ(fw_->ProgramIds().size(), 1u);
  EXPECT_EQ(RunIn(ep_a_->path(), [] { return SocketErrno(AF_INET, SOCK_STREAM, 0); }), EPERM);
  const std::string name = absl::StrCat("shim-net-", getpid(), "-nounix");
  UniqueFd listener = AbstractListener(SOCK_STREAM, name);
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return UnixOp(SOCK_STREAM, name, true, false); }), 0);
  for (int type : {49 /* BPF_CGROUP_UNIX_CONNECT */, 50 /* BPF_CGROUP_UNIX_SENDMSG */}) {
    uint32_t count = 0;
    ASSERT_EQ(bpf_prog_query(run_->dir_fd(), static_cast<bpf_attach_type>(type), 0, nullptr,
                             nullptr, &count),
              0);
    EXPECT_EQ(count, 0u) << type;
  }
}

// connect(AF_UNSPEC) then connect(dst) on an inherited listening socket: 0 or errno.
int ReconnectListener(int fd, const char* ip, uint16_t port) {
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  if (connect(fd, &unspec, sizeof(unspec)) != 0) return 100 + errno;
  sockaddr_in a = V4(ip, port);
  return Errno(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)));
}

// The supervisor-created-socket trap, and its fix.
TEST_F(FirewallTest, ListenersMustBeCreatedInTheEntrypointsCgroup) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  UniqueFd probe = Listen("127.0.0.1", 0);
  const uint16_t granted = LocalPort(probe.get());
  probe.reset();
  spec::NetworkPolicy p = OnlyHost2(port_);
  spec::InboundRule in;
  in.port = granted;
  p.inbound.push_back(in);
  Install(*ep_a_, "a", p);
  const uint16_t port = port_;

  // Trap: a listener made in the supervisor's (here: the test's) cgroup runs no program at all,
  // so the entrypoint can turn it into an outbound connection to anywhere.
  UniqueFd outside = Listen("127.0.0.1", 0);
  const int outside_fd = outside.get();
  // Older kernels let it connect (0); newer ones refuse to connect a listening socket at all
  // (EINVAL), which closes the trap in the kernel. Either way no policy ran on it.
  const int trap =
      RunIn(ep_a_->path(), [&] { return ReconnectListener(outside_fd, "127.0.0.3", port); });
  EXPECT_TRUE(trap == 0 || trap == EINVAL) << "unexpected errno " << trap;

  // Fix: the listener is created from a child in a leaf cgroup beneath the entrypoint's.
  auto listeners = MakeChild(*ep_a_, "listeners");
  sockaddr_in addr = V4("127.0.0.1", granted);
  auto inside = BindSocketInCgroup(listeners->dir_fd(), SOCK_STREAM,
                                   reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ASSERT_TRUE(inside.ok()) << inside.status();
  EXPECT_TRUE(ConnectsWithin(granted, 2000));  // the granted listener works
  const int inside_fd = inside->get();
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return ReconnectListener(inside_fd, "127.0.0.3", port); }),
            EPERM);
  // And its bind passes the policy: an ungranted port is refused.
  UniqueFd probe2 = Listen("127.0.0.1", 0);
  sockaddr_in other = V4("127.0.0.1", LocalPort(probe2.get()));
  probe2.reset();
  auto refused = BindSocketInCgroup(listeners->dir_fd(), SOCK_STREAM,
                                    reinterpret_cast<sockaddr*>(&other), sizeof(other));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("bind"), std::string::npos) << refused.status();
  EXPECT_NE(refused.status().message().find("EPERM"), std::string::npos) << refused.status();
}

// An entrypoint with a TcpListener but no network block: the supervisor installs an inbound-only
// policy, creates the listener in the entrypoint's subtree, and nothing else is possible with it.
TEST_F(FirewallTest, InboundOnlyPolicyListenerServesAndCannotReachOut) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  UniqueFd probe = Listen("127.0.0.1", 0);
  const uint16_t granted = LocalPort(probe.get());
  probe.reset();
  spec::NetworkPolicy p;
  spec::InboundRule in;
  in.port = granted;
  p.inbound.push_back(in);
  Install(*ep_b_, "listener", p);
  auto listeners = MakeChild(*ep_b_, "listeners");
  sockaddr_in addr = V4("127.0.0.1", granted);
  auto listener = BindSocketInCgroup(listeners->dir_fd(), SOCK_STREAM,
                                     reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ASSERT_TRUE(listener.ok()) << listener.status();
  const int lfd = listener->get();
  const uint16_t port = port_;
  // The entrypoint accepts a connection made from outside...
  UniqueFd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(RunIn(ep_b_->path(),
                  [&] {
                    int c = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
                    if (c < 0) return 100 + errno;
                    int rc = send(c, "y", 1, 0) == 1 ? 0 : 200 + errno;
                    close(c);
                    return rc;
                  }),
            0);
  char c = 0;
  EXPECT_EQ(recv(client.get(), &c, 1, 0), 1);
  // ...but can neither reuse the listener to reach out nor make sockets of its own to do so.
  EXPECT_EQ(RunIn(ep_b_->path(), [&] { return ReconnectListener(lfd, "127.0.0.3", port); }), EPERM);
  EXPECT_EQ(RunIn(ep_b_->path(), [&] { return Connect4("127.0.0.2", port); }), EPERM);
  EXPECT_EQ(RunIn(ep_b_->path(), [] { return SocketErrno(AF_INET, SOCK_DGRAM, 0); }), EPERM);
}

TEST_F(FirewallTest, BindSocketInCgroupMakesGrantedUdpSockets) {
  ASSERT_NO_FATAL_FAILURE(AttachFirewall());
  UniqueFd probe = Listen("127.0.0.1", 0, SOCK_DGRAM);
  const uint16_t granted = LocalPort(probe.get());
  probe.reset();
  spec::NetworkPolicy p;
  spec::InboundRule in;
  in.port = granted;
  in.protocol = spec::Protocol::kUdp;
  p.inbound.push_back(in);
  Install(*ep_a_, "a", p);
  auto leaf = MakeChild(*ep_a_, "sockets");
  sockaddr_in addr = V4("127.0.0.1", granted);
  auto sock = BindSocketInCgroup(leaf->dir_fd(), SOCK_DGRAM, reinterpret_cast<sockaddr*>(&addr),
                                 sizeof(addr));
  ASSERT_TRUE(sock.ok()) << sock.status();
  EXPECT_EQ(LocalPort(sock->get()), granted);
  // A granted UDP port receives from anyone.
  SendFrom(udp3_.get(), granted, '3');
  char c = 0;
  pollfd pfd{sock->get(), POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 1000), 1);
  EXPECT_EQ(recv(sock->get(), &c, 1, 0), 1);
  EXPECT_EQ(c, '3');
  // But the entrypoint may not send from it anywhere (no outbound rule).
  const int fd = sock->get();
  const uint16_t port = udp_port_;
  EXPECT_EQ(RunIn(ep_a_->path(),
                  [&] {
                    sockaddr_in to = V4("127.0.0.3", port);
                    return sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 1
                               ? 0
                               : errno;
                  }),
            EPERM);
}

// A hook that cannot attach: another program already holds the cgroup's ingress hook without
// BPF_F_ALLOW_MULTI, so no further program may join it.
TEST_F(FirewallTest, AMissingHookRefusesToStartUnlessDegradedIsAllowed) {
  net_policy* other = net_policy__open_and_load();
  ASSERT_NE(other, nullptr);
  const int prog = bpf_program__fd(other->progs.net_ingress);
  ASSERT_EQ(bpf_prog_attach(prog, run_->dir_fd(), BPF_CGROUP_INET_INGRESS, 0), 0);
  auto refused = Firewall::Attach(run_->dir_fd(), {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("missing guarantee: inbound TCP connections"),
            std::string::npos)
      << refused.status();
  FirewallOptions degraded;
  degraded.allow_degraded = true;
  auto fw = Firewall::Attach(run_->dir_fd(), degraded);
  ASSERT_TRUE(fw.ok()) << fw.status();
  std::vector<std::string> missing = (*fw)->MissingGuarantees();
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_NE(missing[0].find("cgroup_skb/ingress"), std::string::npos) << missing[0];
  // Everything else is enforced.
  ASSERT_TRUE((*fw)->AddEntrypoint(ep_a_->id(), "a", Compile(OnlyHost2(port_))).ok());
  const uint16_t port = port_;
  EXPECT_EQ(RunIn(ep_a_->path(), [&] { return Connect4("127.0.0.3", port); }), EPERM);
  fw->reset();
  EXPECT_EQ(bpf_prog_detach2(prog, run_->dir_fd(), BPF_CGROUP_INET_INGRESS), 0);
  net_policy__destroy(other);
}

TEST_F(FirewallTest, RefusesRootAndOwnCgroup) {
  auto own = OwnCgroup2Dir();
  ASSERT_TRUE(own.ok());
  UniqueFd own_fd(open(own->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  EXPECT_FALSE(Firewall::Attach(own_fd.get(), {}).ok());
  auto mount = FindCgroup2Mount();
  ASSERT_TRUE(mount.ok());
  UniqueFd root_fd(open(mount->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  EXPECT_FALSE(Firewall::Attach(root_fd.get(), {}).ok());
  UniqueFd tmp_fd(open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  EXPECT_FALSE(Firewall::Attach(tmp_fd.get(), {}).ok());
}

}  // namespace
}  // namespace shim::net
