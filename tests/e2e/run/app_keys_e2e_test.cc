// The spec keys real programs need (issue 18), end to end with Debian's busybox as the program:
// the binary at its own path and name, stdio from the trigger, the built-in TCP and unix
// listeners with their caps, a fresh Tmpfs per instance, cwd, stop_signal and shim-init.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <chrono>
#include <fstream>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "common/unique_fd.h"
#include "e2e/run/run_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/background.h"
#include "support/privileged.h"
#include "support/subprocess.h"

namespace shim::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kShim = BuiltBinary("shim-bpf");
constexpr char kBusybox[] = "/bin/busybox";

// A spec whose entrypoints run busybox (written into `dir`).
std::string BusyboxSpec(const RunFixtureDir& dir, const std::string& entrypoints_json) {
  const std::string spec = dir.path() + "/busybox.json";
  std::ofstream(spec) << R"({"binary": ")" << kBusybox << R"(", "entrypoints": {)"
                      << entrypoints_json << "}}";
  return spec;
}

// Connects to a unix stream socket, sends `message`, half-closes and reads the reply to EOF.
std::string UnixRoundTrip(const std::string& path, const std::string& message) {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return absl::StrCat("connect failed: ", strerror(errno));
  }
  timeval timeout{10, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  (void)!write(fd.get(), message.data(), message.size());
  shutdown(fd.get(), SHUT_WR);
  std::string reply;
  char buf[4096];
  for (ssize_t n; (n = read(fd.get(), buf, sizeof buf)) > 0;) reply.append(buf, n);
  return reply;
}

// The binary is shown at its own path: argv[0] (the basename by default, "argv0" to override),
// comm and /proc/self/exe carry its real name, which is what a multi-call binary needs.
TEST(AppKeysE2e, TheBinaryRunsUnderItsOwnNameAndPath) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const std::string spec = BusyboxSpec(dir, R"(
      "named": {"args": ["BinaryName", {"Literal": "sh"}, {"Literal": "-c"},
          {"Literal": "b=busybox; echo exe=$($b readlink /proc/self/exe) comm=$($b cat /proc/1/comm) argv0=$($b tr '\\0' '\\n' < /proc/1/cmdline | $b head -1); true"}],
          "environment": ["Stdout", "Procfs"]},
      "as-sh": {"argv0": "sh", "args": ["BinaryName", {"Literal": "-c"}, {"Literal": "echo as-sh=$0"}],
          "environment": ["Stdout"]})");
  CommandResult r = RunCommand({kShim, "run", "-q", spec});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("exe=/bin/busybox comm=busybox argv0=busybox\n"));
  // argv[0] "sh": busybox runs its sh applet, exactly as through a /bin/sh symlink.
  EXPECT_THAT(r.out, HasSubstr("as-sh=sh\n"));
}

// inetd style over the built-in unix listener: each connection is a fresh void whose stdin and
// stdout are the connection (no trampoline). The socket file is the supervisor's and is removed
// at the end; one left by an earlier run is replaced, anything else at the path is refused.
TEST(AppKeysE2e, AUnixListenerServesEachConnectionOnStdio) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const std::string socket_path = dir.path() + "/app.sock";
  {  // a stale socket, as a killed run leaves it
    UniqueFd stale(socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    snprintf(address.sun_path, sizeof address.sun_path, "%s", socket_path.c_str());
    ASSERT_EQ(bind(stale.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  }
  const std::string spec = BusyboxSpec(dir, R"(
      "upper": {"trigger": {"UnixListener": {"path": ")" + socket_path + R"("}},
          "args": ["BinaryName", {"Literal": "tr"}, {"Literal": "a-z"}, {"Literal": "A-Z"}],
          "stdio": {"stdin": "Trigger", "stdout": "Trigger"}})");
  BackgroundProcess run({kShim, "run", "-q", "--events", dir.events_path(), spec});
  ASSERT_TRUE(WaitUntil([&] { return UnixRoundTrip(socket_path, "ping") == "PING"; }))
      << run.Err();
  EXPECT_EQ(UnixRoundTrip(socket_path, "hello void"), "HELLO VOID");
  struct stat st;
  ASSERT_EQ(stat(socket_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0666u);
  ASSERT_TRUE(run.Signal(SIGTERM));
  EXPECT_EQ(run.Wait(std::chrono::seconds(10)), 0) << run.Err();
  EXPECT_NE(stat(socket_path.c_str(), &st), 0) << "the run removes its socket";
  auto spawns = EventsOf(dir.Events(), "spawn", "upper");
  EXPECT_GE(spawns.size(), 2u);
  std::set<int> pids;
  for (const auto& e : spawns) pids.insert(e["pid"].get<int>());
  EXPECT_EQ(pids.size(), spawns.size()) << "one void per connection";

  std::ofstream(socket_path) << "not a socket";
  CommandResult refused = RunCommand({kShim, "run", "-q", spec});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("exists and is a regular file, not a socket"));
  EXPECT_EQ(ReadFileOrEmpty(socket_path), "not a socket") << "left alone";
}

// An error from a module below the supervisor names the entrypoint once (the supervisor owns the
// name; the void says only what is wrong with it).
TEST(AppKeysE2e, ARunErrorNamesTheEntrypointOnce) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  // Valid as a spec, refused when the void is planned: the Tmpfs would hide busybox's libc.
  const std::string spec = BusyboxSpec(
      dir, R"("web": {"environment": [{"Tmpfs": {"environment_path": "/lib"}}]})");
  CommandResult r = RunCommand({kShim, "run", "-q", spec});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("entrypoint web: Tmpfs at /lib overlaps library /lib/"));
  EXPECT_EQ(r.err.find("web"), r.err.rfind("web")) << r.err;
}

// A channel end as a stream: a program's stdout as a pipe's Tx end makes each of its writes a
// message, and the handler that message triggers reads it on stdin. A pipeline of two voids made
// of programs that know nothing about shim-bpf.
TEST(AppKeysE2e, AProgramsStdoutCanFeedAPipeTrigger) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const std::string spec = BusyboxSpec(dir, R"(
      "produce": {"args": ["BinaryName", {"Literal": "echo"}, {"Literal": "one message"}],
          "stdio": {"stdout": {"Pipe": {"Tx": "lines"}}}},
      "consume": {"trigger": {"Pipe": "lines"},
          "args": ["BinaryName", {"Literal": "sed"}, {"Literal": "s/^/consumed: /"}],
          "stdio": {"stdin": "Trigger", "stdout": "Inherit"}})");
  CommandResult r = RunCommand({kShim, "run", "-q", spec});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "consumed: one message\n");
}

// max_per_source: connections beyond the cap from one address are closed at once and reported,
// while the connections in flight go on; concurrency still bounds the whole entrypoint.
TEST(AppKeysE2e, ATcpListenerCapsConnectionsPerSourceAddress) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const int port = FreeLoopbackPort();
  const std::string spec = BusyboxSpec(dir, R"(
      "slow": {"trigger": {"TcpListener": {"addr": "127.0.0.1:)" + std::to_string(port) +
                                                R"(", "max_per_source": 1}},
          "args": ["BinaryName", {"Literal": "sh"}, {"Literal": "-c"},
                   {"Literal": "read line; echo got $line"}],
          "stdio": {"stdin": "Trigger", "stdout": "Trigger"}})");
  signal(SIGPIPE, SIG_IGN);  // the refused connection is reset under the client's feet
  BackgroundProcess run({kShim, "run", "--events", dir.events_path(), spec});
  ASSERT_TRUE(WaitUntil([&] { return EchoOnce(port, "first\n") == "got first\n"; })) << run.Err();
  // The reply comes before its handler is reaped (and its slot freed): wait for that.
  ASSERT_TRUE(WaitUntil([&] {
    const auto events = dir.Events();
    return EventsOf(events, "exit", "slow").size() == EventsOf(events, "spawn", "slow").size();
  }));
  const size_t spawned = EventsOf(dir.Events(), "spawn", "slow").size();
  // Hold one connection open (its handler waits for a line), then try a second.
  UniqueFd held(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(held.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_TRUE(WaitUntil(
      [&] { return EventsOf(dir.Events(), "spawn", "slow").size() == spawned + 1; }));
  EXPECT_EQ(EchoOnce(port, "second\n"), "") << "closed at once, never handled";
  ASSERT_TRUE(WaitUntil([&] { return !EventsOf(dir.Events(), "trigger_refused").empty(); }));
  EXPECT_THAT(EventsOf(dir.Events(), "trigger_refused")[0]["error"].get<std::string>(),
              HasSubstr("max_per_source 1"));
  (void)!write(held.get(), "third\n", 6);
  char reply[32] = {};
  EXPECT_GT(read(held.get(), reply, sizeof reply - 1), 0);
  EXPECT_STREQ(reply, "got third\n");
  held.reset();
  // Once the held one is done, the address may connect again.
  EXPECT_TRUE(WaitUntil([&] { return EchoOnce(port, "fourth\n") == "got fourth\n"; }));
  ASSERT_TRUE(run.Signal(SIGTERM));
  EXPECT_EQ(run.Wait(std::chrono::seconds(10)), 0) << run.Err();
}

// Every instance gets its own empty Tmpfs (with the template, in a copy of it; with Procfs, in
// its own mounts), starts in "cwd", and cannot execute what it writes there.
TEST(AppKeysE2e, EachInstanceHasItsOwnTmpfsAndStartsInCwd) {
  SHIM_REQUIRE_PRIVILEGED();
  for (const char* extra : {"", R"(, "Procfs")"}) {
    RunFixtureDir dir;
    const int port = FreeLoopbackPort();
    const std::string spec = BusyboxSpec(dir, R"(
        "scratch": {"trigger": {"TcpListener": {"addr": "127.0.0.1:)" + std::to_string(port) +
                                                   R"("}}, "cwd": "/tmp",
            "args": ["BinaryName", {"Literal": "sh"}, {"Literal": "-c"},
                     {"Literal": "b=busybox; echo pwd=$(pwd) before=$($b ls /tmp | $b wc -l); echo x > mark; $b cp /bin/busybox ./bb; ./bb true 2>/dev/null && echo ran || echo noexec; $b stat -f -c size=%b*%S /tmp"}],
            "stdio": {"stdout": "Trigger"},
            "environment": [{"Tmpfs": {"environment_path": "/tmp", "size": "2M"}})" +
                                                  extra + R"(]})");
    BackgroundProcess run({kShim, "run", "-q", spec});
    std::string first;
    ASSERT_TRUE(WaitUntil([&] {
      first = EchoOnce(port, "");
      return absl::StartsWith(first, "pwd=");
    })) << first << run.Err();
    EXPECT_EQ(first, "pwd=/tmp before=0\nnoexec\nsize=512*4096\n") << extra;
    EXPECT_EQ(EchoOnce(port, ""), first) << "the next instance's /tmp is empty again";
    ASSERT_TRUE(run.Signal(SIGTERM));
    EXPECT_EQ(run.Wait(std::chrono::seconds(10)), 0) << run.Err();
  }
}

// stop_signal replaces SIGTERM on shutdown. Without an init, a program that is pid 1 and has no
// handler ignores the stop signal and is killed after the grace period; with "init": true,
// shim-init forwards it, the program dies of it, and the exit event says 128+15.
TEST(AppKeysE2e, StopSignalAndInitStopRealProgramsAtOnce) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const std::string spec = BusyboxSpec(dir, R"(
      "usr1": {"stop_signal": "SIGUSR1", "args": ["BinaryName", {"Literal": "sh"}, {"Literal": "-c"},
          {"Literal": "trap 'exit 7' USR1; echo ready; while :; do busybox sleep 0.05; done"}],
          "environment": ["Stdout"]},
      "plain": {"args": ["BinaryName", {"Literal": "sleep"}, {"Literal": "60"}]},
      "init": {"init": true, "args": ["BinaryName", {"Literal": "sleep"}, {"Literal": "60"}]})");
  BackgroundProcess run({kShim, "run", "-q", "--grace", "2s", "--events", dir.events_path(), spec});
  ASSERT_TRUE(WaitUntil([&] {
    return run.Out() == "ready\n" && EventsOf(dir.Events(), "spawn").size() == 3;
  })) << run.Err();
  ASSERT_TRUE(run.Signal(SIGTERM));
  EXPECT_EQ(run.Wait(std::chrono::seconds(15)), 0) << run.Err();
  auto events = dir.Events();
  auto usr1 = EventsOf(events, "exit", "usr1");
  ASSERT_EQ(usr1.size(), 1u);
  EXPECT_EQ(usr1[0].value("exit_code", -1), 7) << usr1[0].dump() << " (its USR1 trap ran)";
  auto plain = EventsOf(events, "exit", "plain");
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].value("signal", -1), SIGKILL) << plain[0].dump() << " (ignored SIGTERM)";
  auto init = EventsOf(events, "exit", "init");
  ASSERT_EQ(init.size(), 1u);
  EXPECT_EQ(init[0].value("exit_code", -1), 128 + SIGTERM) << init[0].dump();
}

}  // namespace
}  // namespace shim::testing
