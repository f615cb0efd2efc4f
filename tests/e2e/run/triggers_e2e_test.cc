// Triggers end to end: every message or fd batch starts a fresh void; the pipes and echo examples
// with real clients; refusals; and a misbehaving handler not disturbing the others.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/str_replace.h"
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

std::set<int> PidsOf(const std::vector<nlohmann::json>& events) {
  std::set<int> pids;
  for (const nlohmann::json& e : events) pids.insert(e["pid"].get<int>());
  return pids;
}

TEST(TriggersE2e, PipesExampleRunsOneFreshReceiverPerExactMessage) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const std::vector<std::string> words = {"alpha",   "two words", "  spaced  ",
                                          "ünïcödé", "",          "last"};
  std::vector<std::string> argv = {
      kShim, "run", "-q", BuiltBinary("examples/pipes/spec.json"), "--events", dir.events_path(),
      "--"};
  argv.insert(argv.end(), words.begin(), words.end());
  CommandResult r = RunCommand(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string& word : words) {
    EXPECT_THAT(r.out, HasSubstr("receiver pid 1 got: " + word + "\n")) << word;
  }
  auto events = dir.Events();
  auto spawns = EventsOf(events, "spawn", "receiver");
  EXPECT_EQ(spawns.size(), words.size());
  EXPECT_EQ(PidsOf(spawns).size(), words.size()) << "each message in a distinct process";
  EXPECT_EQ(EventsOf(events, "exit", "receiver").size(), words.size()) << "spawned = exited";
}

TEST(TriggersE2e, MessagesThatCannotBeArgvWordsAreRefusedAndLogged) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"(
      "send-nul": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "p"}}]},
      "handler": {"trigger": {"Pipe": "p"}, "args": ["BinaryName", "Entrypoint", "Trigger"],
                  "environment": ["Stdout"]})");
  CommandResult r = RunCommand({kShim, "run", "-q", spec, "--events", dir.events_path()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "handler: [good]\n");
  EXPECT_THAT(r.err, HasSubstr("request refused"));
  auto refused = EventsOf(dir.Events(), "trigger_refused", "handler");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_THAT(refused[0]["error"].get<std::string>(), HasSubstr("NUL"));
}

TEST(TriggersE2e, ACrashingHandlerDoesNotDisturbTheOthers) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  // Two senders send the same words: to crashing handlers on one pipe, to healthy handlers on
  // another, in one supervisor.
  std::string spec = dir.WriteSpec(R"(
      "send": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "bad"}}, "Trailing"]},
      "segv": {"trigger": {"Pipe": "bad"}, "args": ["BinaryName", "Entrypoint", "Trigger"]},
      "send-too": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "good"}}, "Trailing"]},
      "handler": {"trigger": {"Pipe": "good"}, "args": ["BinaryName", "Entrypoint", "Trigger"],
                  "environment": ["Stdout"]})");
  CommandResult r = RunCommand(
      {kShim, "run", "-q", spec, "--events", dir.events_path(), "--", "w", "x", "y", "z"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto events = dir.Events();
  auto crashes = EventsOf(events, "exit", "segv");
  EXPECT_EQ(crashes.size(), 4u);
  for (const auto& e : crashes) EXPECT_EQ(e["signal"], SIGSEGV);
  for (const char* word : {"w", "x", "y", "z"}) {
    EXPECT_THAT(r.out, HasSubstr(std::string("handler: [") + word + "]\n"));
  }
  EXPECT_EQ(EventsOf(events, "exit", "handler").size(), 4u);
}

TEST(TriggersE2e, EchoExampleEchoesRealClientsEachInItsOwnHandler) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  EchoServer server(dir);
  for (int i = 0; i < 3; ++i) {
    CommandResult r =
        RunCommand({"socat", "-t2", "-", "TCP:127.0.0.1:" + std::to_string(server.port())},
                   "hello " + std::to_string(i) + "\n", std::chrono::seconds(10));
    EXPECT_EQ(r.out, "hello " + std::to_string(i) + "\n") << r.err;
  }
  CommandResult nc = RunCommand({"nc", "-N", "127.0.0.1", std::to_string(server.port())},
                                "via netcat\n", std::chrono::seconds(10));
  EXPECT_EQ(nc.out, "via netcat\n") << nc.err;
  server.run().Signal(SIGTERM);
  EXPECT_EQ(server.run().Wait(std::chrono::seconds(15)), 0) << server.run().Err();
  auto events = dir.Events();
  auto handlers = EventsOf(events, "spawn", "request_handler");
  EXPECT_EQ(handlers.size(), 5u);  // the readiness ping, 3 socat, 1 nc
  EXPECT_EQ(PidsOf(handlers).size(), handlers.size());
  // libshim_app's SIGTERM handler makes the listener (pid 1 of its void) stop cleanly at once,
  // instead of being killed at the end of the grace period.
  auto listener_exit = EventsOf(events, "exit", "connection_listener");
  ASSERT_EQ(listener_exit.size(), 1u);
  EXPECT_EQ(listener_exit[0].value("exit_code", -1), 0) << listener_exit[0].dump();
  EXPECT_TRUE(CgroupDirsOfRun(EventsOf(events, "run_start").at(0)["run_id"]).empty());
}

// The echo example's variant where the supervisor accepts itself (a TcpListener trigger): the
// same handlers, one per connection, and no listener void at all.
TEST(TriggersE2e, EchoWithTheBuiltInListenerEchoesEachConnectionInItsOwnHandler) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const int port = FreeLoopbackPort();
  std::string spec = ReadFileOrEmpty(BuiltBinary("examples/echo/spec_builtin_listener.json"));
  ASSERT_FALSE(spec.empty());
  absl::StrReplaceAll({{"127.0.0.1:8080", "127.0.0.1:" + std::to_string(port)},
                       {"\"binary\": \"echo\"",
                        "\"binary\": \"" + BuiltBinary("examples/echo/echo") + "\""}},
                      &spec);
  const std::string path = dir.path() + "/builtin.json";
  std::ofstream(path) << spec;
  BackgroundProcess run({kShim, "run", "-q", "--events", dir.events_path(), path});
  ASSERT_TRUE(WaitUntil([&] { return EchoOnce(port, "ping") == "ping"; })) << run.Err();
  for (int i = 0; i < 3; ++i) {
    CommandResult r = RunCommand({"socat", "-t2", "-", "TCP:127.0.0.1:" + std::to_string(port)},
                                 "hello " + std::to_string(i) + "\n", std::chrono::seconds(10));
    EXPECT_EQ(r.out, "hello " + std::to_string(i) + "\n") << r.err;
  }
  run.Signal(SIGTERM);
  EXPECT_EQ(run.Wait(std::chrono::seconds(15)), 0) << run.Err();
  auto events = dir.Events();
  auto handlers = EventsOf(events, "spawn", "request_handler");
  EXPECT_GE(handlers.size(), 4u);  // the readiness ping(s), 3 socat
  EXPECT_EQ(PidsOf(handlers).size(), handlers.size());
  EXPECT_EQ(EventsOf(events, "spawn").size(), handlers.size()) << "no listener void";
  EXPECT_TRUE(CgroupDirsOfRun(EventsOf(events, "run_start").at(0)["run_id"]).empty());
}

TEST(TriggersE2e, EchoUnderConcurrentLoadEchoesEveryByte) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  EchoServer server(dir);
  constexpr int kClients = 20;
  constexpr int kPerClient = 25;
  std::atomic<int> wrong{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kPerClient; ++i) {
        const std::string message = "client " + std::to_string(c) + " message " +
                                    std::to_string(i) + std::string(1000 + i, 'x');
        if (EchoOnce(server.port(), message) != message) ++wrong;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(wrong.load(), 0);
  server.run().Signal(SIGTERM);
  EXPECT_EQ(server.run().Wait(std::chrono::seconds(15)), 0);
  auto events = dir.Events();
  auto spawns = EventsOf(events, "spawn", "request_handler");
  EXPECT_EQ(spawns.size(), static_cast<size_t>(kClients * kPerClient + 1));
  EXPECT_EQ(PidsOf(spawns).size(), spawns.size());
  EXPECT_EQ(EventsOf(events, "exit", "request_handler").size(), spawns.size());
}

TEST(TriggersE2e, ConcurrencyBoundsInFlightHandlersAndTheRestWait) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"(
      "send": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "p"}}, "Trailing"]},
      "sleep": {"trigger": {"Pipe": "p"}, "args": ["BinaryName", "Entrypoint", "Trigger"],
                "limits": {"concurrency": 2}})");
  // Eight messages "150": each handler sleeps 150 ms, two at a time.
  std::vector<std::string> argv = {kShim, "run", "-q", spec, "--events", dir.events_path(), "--"};
  for (int i = 0; i < 8; ++i) argv.push_back("150");
  CommandResult r = RunCommand(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int in_flight = 0;
  int most = 0;
  int spawned = 0;
  for (const nlohmann::json& e : dir.Events()) {
    if (e.value("entrypoint", "") != "sleep") continue;
    if (e["event"] == "spawn") {
      most = std::max(most, ++in_flight);
      ++spawned;
    }
    if (e["event"] == "exit") --in_flight;
  }
  EXPECT_EQ(spawned, 8) << "every request is served, none dropped";
  EXPECT_EQ(most, 2);
}

TEST(TriggersE2e, AHandlerPastItsTimeoutIsKilledAndTheOthersAreServed) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"(
      "send": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "p"}}, "Trailing"]},
      "sleep": {"trigger": {"Pipe": "p"}, "args": ["BinaryName", "Entrypoint", "Trigger"],
                "limits": {"timeout": "300ms", "concurrency": 4}})");
  CommandResult r = RunCommand(
      {kShim, "run", "-q", spec, "--events", dir.events_path(), "--", "60000", "1", "2", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int timed_out = 0;
  int clean = 0;
  for (const nlohmann::json& e : EventsOf(dir.Events(), "exit", "sleep")) {
    if (e.value("timed_out", false)) ++timed_out;
    if (e.value("exit_code", -1) == 0) ++clean;
  }
  EXPECT_EQ(timed_out, 1);
  EXPECT_EQ(clean, 3);
}

TEST(TriggersE2e, TriggerOnAChannelWithoutWriterIsRejectedByRun) {
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(
      R"("handler": {"trigger": {"FileSocket": "nobody"}, "args": ["BinaryName", "Trigger"]})");
  CommandResult r = RunCommand({kShim, "run", spec});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("/entrypoints/handler/trigger: error: FileSocket \"nobody\" has a "
                               "reader but no writer"));
}

TEST(TriggersE2e, TcpListenerOnIpv6) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const int port = FreeLoopbackPort();
  const std::string spec_path = dir.path() + "/echo6.json";
  std::ofstream(spec_path) << R"({"binary": ")" << BuiltBinary("examples/echo/echo")
                           << R"(", "entrypoints": {
      "connection_listener": {"args": ["BinaryName", "Entrypoint",
          {"TcpListener": {"addr": "[::1]:)"
                           << port << R"("}}, {"FileSocket": {"Tx": "c"}}]},
      "request_handler": {"trigger": {"FileSocket": "c"},
                          "args": ["BinaryName", "Entrypoint", "Trigger"]}}})";
  BackgroundProcess run({kShim, "run", "-q", spec_path, "--grace", "1s"});
  std::string reply;
  WaitUntil([&] {
    CommandResult r = RunCommand({"socat", "-t2", "-", "TCP6:[::1]:" + std::to_string(port)},
                                 "over ipv6\n", std::chrono::seconds(5));
    reply = r.out;
    return reply == "over ipv6\n";
  });
  EXPECT_EQ(reply, "over ipv6\n") << run.Err();
  run.Signal(SIGTERM);
  EXPECT_EQ(run.Wait(std::chrono::seconds(10)), 0);
}

TEST(TriggersE2e, FilesExampleReadsOneFolderAndWritesAnother) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  // A private copy of the example, so runs do not share out/.
  const std::string copy = dir.path() + "/files";
  ASSERT_EQ(RunCommand({"cp", "-r", BuiltBinary("examples/files"), copy}).exit_code, 0);
  ASSERT_EQ(
      RunCommand({"sh", "-c", "rm -f " + copy + "/out/* && chmod 0777 " + copy + "/out"}).exit_code,
      0);
  CommandResult r = RunCommand({kShim, "run", "-q", copy + "/spec.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("lister: sent 3 names"));
  EXPECT_EQ(ReadFileOrEmpty(copy + "/out/one.txt"), "VOIDS SEE ONLY WHAT THE SPEC GRANTS.\n");
  EXPECT_EQ(ReadFileOrEmpty(copy + "/out/two.txt"), "EACH FILE IS CONVERTED BY ITS OWN PROCESS.\n");
  EXPECT_EQ(ReadFileOrEmpty(copy + "/in/one.txt"), "Voids see only what the spec grants.\n")
      << "the read-only grant was modified";
  EXPECT_THAT(r.err, Not(HasSubstr("ALLOWED")));
}

}  // namespace
}  // namespace shim::testing
