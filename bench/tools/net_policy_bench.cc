// Cost of the network policy on the operations it judges: TCP connect()+close() and UDP
// sendto() over loopback, per operation, for
//   no policy | empty programs on the same hooks | shim-bpf with 1, 100, 10,000 rules |
//   nftables with the same 10,000 rules
// The empty programs (each only returns "allow") are the floor of any cgroup-hook policy: what
// the kernel charges for running a program at all (for sendmsg4, locking the socket per datagram).
// All in a private network namespace (nftables rules and traffic never touch the host's), from
// children placed in cgroups beneath this process's own v2 cgroup. Series are interleaved round
// by round so machine noise falls on all of them alike.
//
//   net_policy_bench OUT_DIR ROUNDS CONNECTS_PER_SAMPLE SENDS_PER_SAMPLE
// Writes OUT_DIR/<op>_<series>.txt, one sample (ns per operation) a line.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "cgroup/cgroup2.h"
#include "net/firewall.h"
#include "net/policy.h"

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "net_policy_bench: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

sockaddr_in V4(const char* ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

void LoopbackUp() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) Die("SIOCGIFFLAGS lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) Die("SIOCSIFFLAGS lo");
  close(fd);
}

// Policy: n-1 decoy hosts in 10.0.0.0/8 (one port each) plus the target host and port, all TCP
// and UDP: the shape of a real allowlist, and the same set nftables gets.
shim::spec::NetworkPolicy Policy(int n, uint16_t tcp_port, uint16_t udp_port) {
  shim::spec::NetworkPolicy p;
  for (int i = 0; i + 1 < n; ++i) {
    shim::spec::OutboundRule r;
    r.cidr.address = {10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                      static_cast<uint8_t>(i)};
    r.cidr.prefix_len = 32;
    r.ports = {{static_cast<uint16_t>(1000 + i % 1000), static_cast<uint16_t>(1000 + i % 1000)}};
    p.outbound.push_back(r);
  }
  for (uint16_t port : {tcp_port, udp_port}) {
    shim::spec::OutboundRule r;
    r.cidr.address = {127, 0, 0, 2};
    r.cidr.prefix_len = 32;
    r.ports = {{port, port}};
    p.outbound.push_back(r);
  }
  return p;
}

std::string NftRuleset(int n, uint16_t tcp_port, uint16_t udp_port) {
  std::string elems;
  for (int i = 0; i + 1 < n; ++i) {
    elems += "10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
             std::to_string(i & 255) + " . " + std::to_string(1000 + i % 1000) + ", ";
  }
  std::string tcp = elems + "127.0.0.2 . " + std::to_string(tcp_port);
  std::string udp = elems + "127.0.0.2 . " + std::to_string(udp_port);
  return "table inet shimbench {\n"
         "  set tcp4 { type ipv4_addr . inet_service; elements = { " +
         tcp +
         " } }\n"
         "  set udp4 { type ipv4_addr . inet_service; elements = { " +
         udp +
         " } }\n"
         "  chain out {\n"
         "    type filter hook output priority 0; policy accept;\n"
         "    ct state established,related accept\n"
         "    ip daddr . tcp dport @tcp4 accept\n"
         "    ip daddr . udp dport @udp4 accept\n"
         "    meta l4proto { tcp, udp } drop\n"
         "  }\n"
         "}\n";
}

void Nft(const std::string& args, const std::string& input = "") {
  std::string cmd = "nft " + args;
  FILE* f = popen(cmd.c_str(), "w");
  if (f == nullptr) Die("popen nft");
  std::fwrite(input.data(), 1, input.size(), f);
  if (pclose(f) != 0) {
    std::fprintf(stderr, "net_policy_bench: `%s` failed\n", cmd.c_str());
    std::exit(1);
  }
}

// Links an "allow everything" program (r0 = 1; exit) to `cgroup_fd` at `attach`, for the floor
// series. Returns the link fd; the program and link live until this process exits.
int AttachEmptyProgram(int cgroup_fd, bpf_prog_type type, bpf_attach_type attach) {
  const bpf_insn allow[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .src_reg = 0, .off = 0, .imm = 1},
      {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach);
  const int prog = bpf_prog_load(type, "empty", "GPL", allow, 2, &opts);
  if (prog < 0) Die("load an empty program");
  const int link = bpf_link_create(prog, cgroup_fd, attach, nullptr);
  if (link < 0) Die("link an empty program");
  return link;
}

// The first CPU this process may run on. Every sendto sample runs there: on this VM a loopback
// sendto() can cost a third more on one vCPU than on the other (which one changes over minutes),
// so each series was bimodal by where the scheduler put the child, hiding a 5% difference.
int SampleCpu() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) Die("sched_getaffinity");
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) return cpu;
  }
  return 0;
}

// One sample: a child in `cgroup_dir` does `count` operations (sendto on `cpu`); returns ns per
// operation.
double Sample(const std::string& cgroup_dir, int cpu, bool connect_op, uint16_t port, int count) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) Die("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    if (!connect_op) {  // connect's peer is the accept thread, which must not share the CPU
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      if (sched_setaffinity(0, sizeof(one), &one) != 0) _exit(6);
    }
    int procs = open((cgroup_dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (procs < 0 || write(procs, "0", 1) != 1) _exit(2);
    sockaddr_in to = V4("127.0.0.2", port);
    int64_t start = NowNs();
    if (connect_op) {
      for (int i = 0; i < count; ++i) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) _exit(3);
        linger l{1, 0};  // RST on close: no TIME_WAIT, no ephemeral port exhaustion
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        close(fd);
      }
    } else {
      int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      for (int i = 0; i < count; ++i) {
        if (sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 1) _exit(4);
      }
    }
    double per_op = static_cast<double>(NowNs() - start) / count;
    _exit(write(pipefd[1], &per_op, sizeof(per_op)) == sizeof(per_op) ? 0 : 5);
  }
  close(pipefd[1]);
  double per_op = 0;
  ssize_t n = read(pipefd[0], &per_op, sizeof(per_op));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (n != sizeof(per_op) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "net_policy_bench: sample in %s failed (status 0x%x)\n",
                 cgroup_dir.c_str(), status);
    std::exit(1);
  }
  return per_op;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: net_policy_bench OUT_DIR ROUNDS CONNECTS SENDS\n");
    return 2;
  }
  const std::string out = argv[1];
  const int rounds = std::atoi(argv[2]), connects = std::atoi(argv[3]), sends = std::atoi(argv[4]);
  if (unshare(CLONE_NEWNET) != 0) Die("unshare(CLONE_NEWNET)");
  LoopbackUp();

  // Targets: a TCP listener drained by a thread, a UDP socket (datagrams may overflow it: the
  // sender's cost is what is measured).
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in l = V4("127.0.0.2", 0);
  if (bind(listener, reinterpret_cast<sockaddr*>(&l), sizeof(l)) != 0 || listen(listener, 4096))
    Die("listen");
  socklen_t len = sizeof(l);
  getsockname(listener, reinterpret_cast<sockaddr*>(&l), &len);
  const uint16_t tcp_port = ntohs(l.sin_port);
  std::thread([listener] {
    for (;;) {
      int c = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) close(c);
    }
  }).detach();
  int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in u = V4("127.0.0.2", 0);
  if (bind(udp, reinterpret_cast<sockaddr*>(&u), sizeof(u)) != 0) Die("bind udp");
  len = sizeof(u);
  getsockname(udp, reinterpret_cast<sockaddr*>(&u), &len);
  const uint16_t udp_port = ntohs(u.sin_port);

  // Cgroups: <own>/net-bench-<pid>/{free, floor, run/{e1,e100,e10000}}; free is outside the run,
  // floor has the empty programs on the hooks an IPv4 connect or sendto passes.
  auto own = shim::OwnCgroup2Dir();
  if (!own.ok()) Die(std::string(own.status().message()));
  auto top = shim::OwnedCgroup::Create(*own, "net-bench-" + std::to_string(getpid()));
  if (!top.ok()) Die(std::string(top.status().message()));
  auto free_cg = shim::OwnedCgroup::Create(top->path(), "free");
  auto run = shim::OwnedCgroup::Create(top->path(), "run");
  auto floor_cg = shim::OwnedCgroup::Create(top->path(), "floor");
  if (!free_cg.ok() || !run.ok() || !floor_cg.ok()) Die("create cgroups");
  AttachEmptyProgram(floor_cg->dir_fd(), BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE);
  AttachEmptyProgram(floor_cg->dir_fd(), BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT);
  AttachEmptyProgram(floor_cg->dir_fd(), BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG);
  AttachEmptyProgram(floor_cg->dir_fd(), BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS);
  auto fw = shim::net::Firewall::Attach(run->dir_fd(), {});
  if (!fw.ok()) Die(std::string(fw.status().message()));
  const int sizes[] = {1, 100, 10000};
  std::vector<shim::OwnedCgroup> eps;
  for (int n : sizes) {
    auto ep = shim::OwnedCgroup::Create(run->path(), "e" + std::to_string(n));
    if (!ep.ok()) Die("create entrypoint cgroup");
    auto compiled = shim::net::CompilePolicy(Policy(n, tcp_port, udp_port));
    if (!compiled.ok()) Die(std::string(compiled.status().message()));
    if (auto s = (*fw)->AddEntrypoint(ep->id(), "e" + std::to_string(n), *compiled); !s.ok())
      Die(std::string(s.message()));
    eps.push_back(std::move(*ep));
  }
  const std::string nft_rules = NftRuleset(10000, tcp_port, udp_port);

  struct Series {
    std::string name;
    std::string cgroup;
    bool nft;
  };
  std::vector<Series> series = {
      {"no_policy", free_cg->path(), false}, {"empty_programs", floor_cg->path(), false},
      {"bpf_1", eps[0].path(), false},       {"bpf_100", eps[1].path(), false},
      {"bpf_10000", eps[2].path(), false},   {"nft_10000", free_cg->path(), true}};
  const int cpu = SampleCpu();
  for (const char* op : {"connect", "sendto"}) {
    const bool is_connect = std::string(op) == "connect";
    for (int r = 0; r < rounds; ++r) {
      for (const Series& s : series) {
        if (s.nft) Nft("-f -", nft_rules);
        double v = Sample(s.cgroup, cpu, is_connect, is_connect ? tcp_port : udp_port,
                          is_connect ? connects : sends);
        if (s.nft) Nft("delete table inet shimbench");
        std::ofstream(out + "/" + op + "_" + s.name + ".txt", std::ios::app) << v << "\n";
      }
    }
  }
  // Denials would mean a series measured EPERMs, not connects: the samples exit on failure, so
  // reaching here means every operation was allowed.
  fw->reset();
  return 0;
}
