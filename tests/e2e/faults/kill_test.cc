// kill -9 of the supervisor while it is busy: echo clients connecting in a loop, connections held
// open (live handlers), and a pipe flood against slow handlers. Nothing of the run may survive:
// no process, no listener, no attached BPF program, and (after the next run) no cgroup.
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <thread>

#include "e2e/faults/faults_util.h"
#include "e2e/run/run_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/background.h"
#include "support/privileged.h"
#include "support/subprocess.h"

namespace shim::testing {
namespace {

const std::string kShim = BuiltBinary("shim-bpf");

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// A TCP connection that sends a line, reads its echo, and stays open: a live echo handler.
int HoldConnection(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  char byte = 0;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      write(fd, "h", 1) != 1 || read(fd, &byte, 1) != 1 || byte != 'h') {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(FaultsE2e, KillNineUnderLoadLeavesNoProcessNoBpfProgramAndNoCgroup) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const int port = FreeLoopbackPort();
  const std::string echo = BuiltBinary("examples/echo/echo");
  // The echo example and a pipe flood in one run: `flood` sends a million "60000" messages to
  // `sleep` handlers (8 at a time, each sleeping a minute), so it is blocked on a full channel.
  const std::string spec = dir.WriteSpec(R"(
      "connection_listener": {"binary": ")" +
                                         echo + R"(", "args": ["BinaryName", "Entrypoint",
          {"TcpListener": {"addr": "127.0.0.1:)" +
                                         std::to_string(port) + R"("}},
          {"FileSocket": {"Tx": "clients"}}]},
      "request_handler": {"binary": ")" + echo +
                                         R"(", "trigger": {"FileSocket": "clients"},
          "args": ["BinaryName", "Entrypoint", "Trigger"], "limits": {"concurrency": 128}},
      "flood": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "p"}}, "Trailing"]},
      "sleep": {"trigger": {"Pipe": "p"}, "args": ["BinaryName", "Entrypoint", "Trigger"],
                "limits": {"concurrency": 8}})");
  auto run = std::make_unique<BackgroundProcess>(std::vector<std::string>{
      kShim, "run", "-q", spec, "--events", dir.events_path(), "--", "1000000", "60000"});
  ASSERT_TRUE(WaitUntil([&] { return EchoOnce(port, "ping") == "ping"; })) << run->Err();

  // Load: echo clients in a loop, and connections held open.
  std::atomic<bool> stop{false};
  std::atomic<int> echoed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      while (!stop) {
        if (EchoOnce(port, "load") == "load") ++echoed;
      }
    });
  }
  std::vector<int> held;
  for (int i = 0; i < 10; ++i) {
    const int fd = HoldConnection(port);
    if (fd >= 0) held.push_back(fd);
  }
  ASSERT_EQ(held.size(), 10u);
  ASSERT_TRUE(WaitUntil([&] {
    return EventsOf(dir.Events(), "spawn", "sleep").size() >= 8 && echoed >= 20;
  })) << run->Err();

  // Every process of the run: what --events reported and what the run's cgroups hold.
  const std::vector<nlohmann::json> events = dir.Events();
  const std::string run_id = RunIdOf(events);
  ASSERT_FALSE(run_id.empty());
  // Held as pidfds, so a recycled pid cannot fool the check; a pid counts only if the process
  // behind the pidfd is in one of the run's cgroups (an exited handler's pid may be reused).
  std::map<pid_t, int> pidfds;
  auto track = [&](pid_t pid) {
    if (pidfds.count(pid) != 0) return;
    const int fd = PidfdOpen(pid);
    if (fd < 0) return;  // already exited
    if (ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/cgroup").find(run_id) ==
        std::string::npos) {
      close(fd);
      return;
    }
    pidfds.emplace(pid, fd);
  };
  for (const nlohmann::json& spawn : EventsOf(events, "spawn")) track(spawn["pid"].get<pid_t>());
  for (pid_t pid : ProcsOfRun(run_id)) track(pid);
  // At least: listener, flood, 8 sleeps, 10 held handlers.
  ASSERT_GE(pidfds.size(), 20u);

  // The run's firewall programs, attached to its v2 cgroup.
  const std::string v2_dir = V2DirOfRun(run_id);
  ASSERT_FALSE(v2_dir.empty());
  const std::vector<AttachedProg> progs = ProgsAttachedTo(v2_dir);
  ASSERT_FALSE(progs.empty()) << "no BPF program attached to " << v2_dir;
  for (const AttachedProg& prog : progs) {
    EXPECT_EQ(prog.name.rfind("net_", 0), 0u) << prog.name << " " << prog.attach_type;
  }

  ASSERT_TRUE(run->Signal(SIGKILL));
  EXPECT_EQ(run->Wait(std::chrono::seconds(10)), 128 + SIGKILL);
  stop = true;

  for (const auto& [pid, fd] : pidfds) {
    pollfd p{fd, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 10000), 1) << "pid " << pid << " survived its supervisor's kill -9";
    close(fd);
  }
  for (std::thread& t : clients) t.join();
  for (int fd : held) {
    char byte;
    EXPECT_LE(read(fd, &byte, 1), 0) << "a held connection's handler is still serving it";
    close(fd);
  }
  EXPECT_TRUE(WaitUntil([&] { return ProcsOfRun(run_id).empty(); }))
      << "a process is left in the run's cgroups";
  EXPECT_THAT(EchoOnce(port, "after"), ::testing::HasSubstr("connect failed"))
      << "the listening socket outlived the run";

  // The next run removes the dead run's cgroups; the programs went with the supervisor's links
  // (and would go with the cgroup at the latest).
  RunFixtureDir next_dir;
  const std::string next =
      next_dir.WriteSpec(R"("exit": {"args": ["BinaryName", "Entrypoint", "Trailing"]})");
  EXPECT_EQ(RunCommand({kShim, "run", "-q", next, "--", "0"}).exit_code, 0);
  EXPECT_TRUE(CgroupDirsOfRun(run_id).empty());
  for (const AttachedProg& prog : progs) {
    EXPECT_TRUE(WaitUntil([&] { return !ProgExists(prog.id); }, std::chrono::seconds(15)))
        << "BPF program " << prog.id << " (" << prog.name << ") of the killed run is still loaded";
  }
}

}  // namespace
}  // namespace shim::testing
