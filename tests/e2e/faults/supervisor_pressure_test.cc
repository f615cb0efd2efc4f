// The supervisor itself under pressure: out of file descriptors (RLIMIT_NOFILE), and an --events
// file on a full disk. It must say what went wrong, not crash or spin, and serve again once the
// pressure is gone.
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "e2e/faults/faults_util.h"
#include "e2e/run/run_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/background.h"
#include "support/privileged.h"
#include "support/subprocess.h"

namespace shim::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

const std::string kShim = BuiltBinary("shim-bpf");

// A connection that sent one byte; Served() tells whether a handler echoed it.
class HeldConnection {
 public:
  explicit HeldConnection(int port) : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                 write(fd_, "x", 1) == 1;
  }
  ~HeldConnection() { close(fd_); }
  // Waits up to `timeout_ms` for the echo: true if echoed, false if closed or nothing came.
  bool Served(int timeout_ms) {
    if (!connected_) return false;
    pollfd p{fd_, POLLIN, 0};
    char byte = 0;
    return poll(&p, 1, timeout_ms) == 1 && read(fd_, &byte, 1) == 1 && byte == 'x';
  }

 private:
  int fd_;
  bool connected_ = false;
};

// Whether every handler spawned so far has exited and been reaped (its fds are back).
bool AllHandlersReaped(const RunFixtureDir& dir) {
  const auto events = dir.Events();
  return EventsOf(events, "exit", "request_handler").size() ==
         EventsOf(events, "spawn", "request_handler").size();
}

// How many fds an idle echo run holds (its BPF objects, channels, cgroup dirs, a spare instance
// cgroup, ...), with no handler alive: -1 if it could not be measured.
int IdleEchoRunFds() {
  RunFixtureDir dir;
  EchoServer probe(dir);
  if (EchoOnce(probe.port(), "probe") != "probe") return -1;
  if (!WaitUntil([&] { return AllHandlersReaped(dir); })) return -1;
  const int fds = FdCount(probe.run().pid());
  probe.run().Signal(SIGTERM);
  return probe.run().Wait(std::chrono::seconds(15)) == 0 ? fds : -1;
}

// The wrapper that runs the supervisor with RLIMIT_NOFILE at `limit` (soft and hard).
std::vector<std::string> UnderFdLimit(int limit) {
  return {"prlimit", "--nofile=" + std::to_string(limit) + ":" + std::to_string(limit)};
}

// A void's set-up needs few fds of the supervisor's own (the connection, the spawn's channels, a
// pidfd): the child closes its copy of the supervisor's table before it opens or renumbers
// anything, so a table near RLIMIT_NOFILE does not fail the spawn. (With the child renumbering
// inside the full copy, this run refused every request.)
TEST(SupervisorPressureE2e, AHandlerStartsWithTheSupervisorsTableNearlyFull) {
  SHIM_REQUIRE_PRIVILEGED();
  const int idle_fds = IdleEchoRunFds();
  ASSERT_GT(idle_fds, 3);
  const int limit = idle_fds + 10;
  RunFixtureDir dir;
  EchoServer server(dir, UnderFdLimit(limit));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(WaitUntil([&] { return AllHandlersReaped(dir); })) << server.run().Err();
    const std::string message = "near the limit " + std::to_string(i);
    EXPECT_EQ(EchoOnce(server.port(), message), message) << server.run().Err();
  }
  server.run().Signal(SIGTERM);
  EXPECT_EQ(server.run().Wait(std::chrono::seconds(15)), 0) << server.run().Err();
  EXPECT_TRUE(EventsOf(dir.Events(), "trigger_refused", "request_handler").empty());
}

TEST(SupervisorPressureE2e, OutOfFileDescriptorsRefusesClearlyAndServesAgainAfterwards) {
  SHIM_REQUIRE_PRIVILEGED();
  const int idle_fds = IdleEchoRunFds();
  ASSERT_GT(idle_fds, 3);
  // Room for a few handlers only: each in-flight handler costs the supervisor several fds (its
  // pidfd, cgroup dirs and the connection it hands over).
  const int limit = idle_fds + 16;
  RunFixtureDir dir;
  EchoServer server(dir, UnderFdLimit(limit));
  ASSERT_EQ(EchoOnce(server.port(), "before"), "before") << server.run().Err();
  const pid_t supervisor = server.run().pid();

  // 40 connections held open at once: more handlers than the supervisor has fds for.
  std::vector<std::unique_ptr<HeldConnection>> held;
  held.reserve(40);
  for (int i = 0; i < 40; ++i) held.push_back(std::make_unique<HeldConnection>(server.port()));
  int served = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (auto& c : held) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    served += c->Served(std::max<int>(0, static_cast<int>(left.count()))) ? 1 : 0;
  }
  EXPECT_GT(served, 0) << server.run().Err();
  EXPECT_LT(served, 40) << "the limit did not bite; the test proves nothing";

  // Said clearly, in --events and on stderr.
  auto events = dir.Events();
  auto refused = EventsOf(events, "trigger_refused", "request_handler");
  ASSERT_FALSE(refused.empty()) << server.run().Err();
  for (const auto& e : refused) {
    EXPECT_THAT(e["error"].get<std::string>(),
                AnyOf(HasSubstr("Too many open files"), HasSubstr("out of file descriptors")))
        << e;
  }
  EXPECT_THAT(server.run().Err(), HasSubstr("request_handler: request refused: "));

  // Alive, and idle while the pressure lasts (no busy loop on an fd it cannot take).
  ASSERT_TRUE(server.run().running());
  ASSERT_EQ(kill(supervisor, 0), 0);
  const long cpu_before = CpuTicks(supervisor);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_LT(CpuTicks(supervisor) - cpu_before, sysconf(_SC_CLK_TCK) / 5) << "it spins";

  // The pressure goes: every connection closes, its handler exits and is reaped, the fds come
  // back. (One echo getting through says only that one handler was reaped: the others may still
  // hold the fds the next request needs.)
  held.clear();
  ASSERT_TRUE(WaitUntil([&] { return AllHandlersReaped(dir); })) << server.run().Err();
  for (int i = 0; i < 20; ++i) {
    const std::string message = "after " + std::to_string(i);
    EXPECT_EQ(EchoOnce(server.port(), message), message) << server.run().Err();
  }
  server.run().Signal(SIGTERM);
  EXPECT_EQ(server.run().Wait(std::chrono::seconds(15)), 0) << server.run().Err();
  events = dir.Events();
  EXPECT_EQ(EventsOf(events, "exit", "request_handler").size(),
            EventsOf(events, "spawn", "request_handler").size());
  EXPECT_TRUE(CgroupDirsOfRun(RunIdOf(events)).empty());
}

// RLIMIT_NPROC cannot starve the supervisor: the kernel does not apply it to a root (uid 0)
// parent, so the supervisor keeps spawning a void per request even under nproc=1. The voids
// inherit the limit, and there it binds: their own forks are capped (the void's uid is
// unprivileged), which this test also pins down so a change in either is noticed.
TEST(SupervisorPressureE2e, RlimitNprocDoesNotStopTheRootSupervisorButCapsForksInVoids) {
  SHIM_REQUIRE_PRIVILEGED();
  CommandResult r =
      RunCommand({"prlimit", "--nproc=1:1", kShim, "run", "-q",
                  BuiltBinary("examples/pipes/spec.json"), "--", "one", "two", "three", "four"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* word : {"one", "two", "three", "four"}) {
    EXPECT_THAT(r.out, HasSubstr(std::string("receiver pid 1 got: ") + word + "\n"));
  }
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"(
      "forkbomb": {"args": ["BinaryName", "Entrypoint", "Trailing"], "environment": ["Stdout"],
                   "limits": {"pids": 8}})");
  r = RunCommand({"prlimit", "--nproc=2:2", kShim, "run", "-q", spec, "--", "5"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("forkbomb: made 1 of 5, then Resource temporarily unavailable"));
}

TEST(SupervisorPressureE2e, EventsOnAFullDiskDoNotStopTheRun) {
  SHIM_REQUIRE_PRIVILEGED();
  // /dev/full fails every write with ENOSPC.
  CommandResult r = RunCommand({kShim, "run", "-q", BuiltBinary("examples/pipes/spec.json"),
                                "--events", "/dev/full", "--", "one", "two", "three"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* word : {"one", "two", "three"}) {
    EXPECT_THAT(r.out, HasSubstr(std::string("receiver pid 1 got: ") + word + "\n"));
  }
  // One clear message, not one per event.
  const std::string message =
      "shim-bpf: --events /dev/full: write failed (No space left on device)";
  EXPECT_THAT(r.err, HasSubstr(message));
  EXPECT_EQ(r.err.find(message), r.err.rfind(message)) << r.err;

  // The exit status still follows the Startup entrypoint.
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"("exit": {"args": ["BinaryName", "Entrypoint", "Trailing"]})");
  r = RunCommand({kShim, "run", "-q", spec, "--events", "/dev/full", "--", "7"});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_THAT(r.err, HasSubstr(message));
}

}  // namespace
}  // namespace shim::testing
