// Handlers that misbehave: fork bombs, memory hogs, channels closed early, a sender flooding its
// Tx pipe, garbage on a Tx pipe. Each stays confined to its own void; the supervisor and the
// other handlers go on. (Segfaults and hangs past the timeout: tests/e2e/run/triggers.)
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <string>
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

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kShim = BuiltBinary("shim-bpf");

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(HandlerFaultsE2e, TriggeredForkBombsAreCappedPerHandlerAndOthersAreServed) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  // Each message starts a handler that tries 100 forks under pids=8, three at a time; a healthy
  // handler entrypoint gets the same messages on another pipe.
  std::string spec = dir.WriteSpec(R"(
      "send": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "bomb"}}, "Trailing"]},
      "forkbomb": {"trigger": {"Pipe": "bomb"}, "args": ["BinaryName", "Entrypoint", "Trigger"],
                   "environment": ["Stdout"], "limits": {"pids": 8, "concurrency": 3}},
      "send-too": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "good"}}, "Trailing"]},
      "handler": {"trigger": {"Pipe": "good"}, "args": ["BinaryName", "Entrypoint", "Trigger"],
                  "environment": ["Stdout"]})");
  CommandResult r = RunCommand({kShim, "run", "-q", spec, "--events", dir.events_path(), "--",
                                "100", "100", "100", "100", "100", "100"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 8 tasks per instance: the handler and at most 7 children, in every one of the six.
  EXPECT_EQ(CountOf(r.out, "forkbomb: made 7 of 100, then Resource temporarily unavailable\n"), 6u)
      << r.out;
  EXPECT_EQ(CountOf(r.out, "handler: [100]\n"), 6u) << r.out;
  auto events = dir.Events();
  auto exits = EventsOf(events, "exit", "forkbomb");
  EXPECT_EQ(exits.size(), 6u);
  for (const auto& e : exits) EXPECT_EQ(e.value("exit_code", -1), 0) << e;
  EXPECT_EQ(EventsOf(events, "exit", "handler").size(), 6u);
  EXPECT_TRUE(CgroupDirsOfRun(RunIdOf(events)).empty());
}

TEST(HandlerFaultsE2e, OnlyTheMemoryHogIsOomKilledWhileItsSiblingSucceeds) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  // Two handlers of one entrypoint run side by side under memory=64M: one holds 16 MiB for
  // 1.5 s, the other wants 200 MiB.
  std::string spec = dir.WriteSpec(R"(
      "send": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "p"}}, "Trailing"]},
      "alloc-hold": {"trigger": {"Pipe": "p"}, "args": ["BinaryName", "Entrypoint", "Trigger"],
                     "environment": ["Stdout"], "limits": {"memory": "64M", "concurrency": 2}})");
  CommandResult r = RunCommand(
      {kShim, "run", "-q", spec, "--events", dir.events_path(), "--", "16 1500", "200 0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "alloc-hold: held 16 MiB for 1500 ms\n");
  auto events = dir.Events();
  auto spawns = EventsOf(events, "spawn", "alloc-hold");
  auto exits = EventsOf(events, "exit", "alloc-hold");
  ASSERT_EQ(spawns.size(), 2u);
  ASSERT_EQ(exits.size(), 2u);
  const nlohmann::json* hog = nullptr;
  const nlohmann::json* sibling = nullptr;
  for (const auto& e : exits) (e.value("oom_killed", false) ? hog : sibling) = &e;
  ASSERT_NE(hog, nullptr) << "the 200 MiB handler was not OOM-killed";
  ASSERT_NE(sibling, nullptr) << "both handlers were OOM-killed";
  EXPECT_EQ(hog->value("signal", 0), SIGKILL);
  EXPECT_EQ(sibling->value("exit_code", -1), 0);
  // They really overlapped: the hog died while the sibling was alive.
  double sibling_spawned = 0;
  for (const auto& s : spawns) {
    if (s["instance"] == (*sibling)["instance"]) sibling_spawned = s["ts"].get<double>();
  }
  EXPECT_LT(sibling_spawned, (*hog)["ts"].get<double>());
  EXPECT_LT((*hog)["ts"].get<double>(), (*sibling)["ts"].get<double>());
}

TEST(HandlerFaultsE2e, HandlersThatCloseTheirChannelsEarlyDisturbNothing) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  // `close-fds` (Startup) and every `close-fds-handler` close their channel fds at once (so
  // `print` and `len` never get a request); the ticker keeps using its own channel for 4 s, and
  // every tick is still served. A channel has one writer, so each closer has its own.
  std::string spec = dir.WriteSpec(R"(
      "close-fds": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "a"}}],
                    "environment": ["Stdout"]},
      "print": {"trigger": {"Pipe": "a"}, "args": ["BinaryName", "Entrypoint", "Trigger"]},
      "send": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "p"}}, "Trailing"]},
      "close-fds-handler": {"trigger": {"Pipe": "p"}, "environment": ["Stdout"],
          "args": ["BinaryName", "Entrypoint", "Trigger", {"FileSocket": {"Tx": "f"}}]},
      "len": {"trigger": {"FileSocket": "f"}, "args": ["BinaryName", "Entrypoint", "Trigger"]},
      "ticker": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "q"}}]},
      "handler": {"trigger": {"Pipe": "q"}, "args": ["BinaryName", "Entrypoint", "Trigger"],
                  "environment": ["Stdout"]})");
  CommandResult r =
      RunCommand({kShim, "run", "-q", spec, "--events", dir.events_path(), "--", "a", "b", "c"}, "",
                 std::chrono::seconds(30));
  ASSERT_FALSE(r.timed_out) << "the run hung after its voids closed their channels";
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The Startup closer and the three handlers each closed their one channel fd.
  EXPECT_EQ(CountOf(r.out, "close-fds: closed 1\n"), 4u) << r.out;
  for (int i = 0; i < 40; ++i) {
    EXPECT_THAT(r.out, HasSubstr("handler: [tick-" + std::to_string(i) + "]\n"));
  }
  auto events = dir.Events();
  EXPECT_EQ(EventsOf(events, "exit", "close-fds-handler").size(), 3u);
  EXPECT_EQ(EventsOf(events, "exit", "handler").size(), 40u);
  EXPECT_TRUE(EventsOf(events, "spawn", "print").empty());
  EXPECT_TRUE(EventsOf(events, "spawn", "len").empty());
  EXPECT_TRUE(EventsOf(events, "trigger_refused").empty());
}

TEST(HandlerFaultsE2e, AFloodingSenderIsHeldBackWhileTheSupervisorStaysResponsive) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  // `flood` sends 150 messages as fast as it can to handlers that take 50 ms each, two at a time
  // (about 4 s of work); `ticker` sends a tick every 100 ms on another pipe meanwhile.
  std::string spec = dir.WriteSpec(R"(
      "flood": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "p"}}, "Trailing"],
                "environment": ["Stdout"]},
      "sleep": {"trigger": {"Pipe": "p"}, "args": ["BinaryName", "Entrypoint", "Trigger"],
                "limits": {"concurrency": 2}},
      "ticker": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "q"}}]},
      "handler": {"trigger": {"Pipe": "q"}, "args": ["BinaryName", "Entrypoint", "Trigger"]})");
  BackgroundProcess run(
      {kShim, "run", "-q", spec, "--events", dir.events_path(), "--", "150", "50"});
  pid_t flood = -1;
  ASSERT_TRUE(WaitUntil([&] {
    auto spawns = EventsOf(dir.Events(), "spawn", "flood");
    if (!spawns.empty()) flood = spawns[0]["pid"].get<pid_t>();
    return flood > 0;
  })) << run.Err();
  // Backpressure: the channel's queue fills and the sender blocks inside sendto(2).
  const std::string in_sendto = std::to_string(SYS_sendto) + " ";
  ASSERT_TRUE(WaitUntil([&] {
    return ReadFileOrEmpty("/proc/" + std::to_string(flood) + "/syscall").rfind(in_sendto, 0) == 0;
  })) << "the flooding sender never blocked";
  const long rss_blocked = RssKib(run.pid());
  const size_t ticks_before = EventsOf(dir.Events(), "spawn", "handler").size();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto events = dir.Events();
  ASSERT_TRUE(EventsOf(events, "exit", "flood").empty())
      << "the flood ended before the test could watch it; make it longer";
  EXPECT_EQ(ReadFileOrEmpty("/proc/" + std::to_string(flood) + "/syscall").rfind(in_sendto, 0), 0u)
      << "the sender should still be held back";
  // Ticks kept being served during the flood (about 10 in that second).
  EXPECT_GE(EventsOf(events, "spawn", "handler").size(), ticks_before + 5);
  // What the supervisor holds does not grow with what the sender tries to send.
  if (!kAsan) {
    EXPECT_LT(RssKib(run.pid()), rss_blocked + 2048);
  }
  EXPECT_LT(EventsOf(events, "spawn", "sleep").size(), 150u);

  EXPECT_EQ(run.Wait(std::chrono::seconds(60)), 0) << run.Err();
  EXPECT_THAT(run.Out(), HasSubstr("flood: sent 150\n"));
  events = dir.Events();
  EXPECT_EQ(EventsOf(events, "spawn", "sleep").size(), 150u);
  EXPECT_EQ(EventsOf(events, "exit", "sleep").size(), 150u);
  EXPECT_EQ(EventsOf(events, "exit", "handler").size(), 40u);
  int in_flight = 0, most = 0;
  for (const nlohmann::json& e : events) {
    if (e.value("entrypoint", "") != "sleep") continue;
    if (e["event"] == "spawn") most = std::max(most, ++in_flight);
    if (e["event"] == "exit") --in_flight;
  }
  EXPECT_EQ(most, 2);
}

TEST(HandlerFaultsE2e, GarbageOnATxPipeIsRefusedAndLoggedAndTheRestIsServed) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  std::string spec = dir.WriteSpec(R"(
      "garbage": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "p"}}],
                  "environment": ["Stdout"]},
      "len": {"trigger": {"Pipe": "p"}, "args": ["BinaryName", "Entrypoint", "Trigger"],
              "environment": ["Stdout"]})");
  CommandResult r = RunCommand({kShim, "run", "-q", spec, "--events", dir.events_path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The sender's view: oversized writes fail with EMSGSIZE and are never split.
  EXPECT_THAT(r.out, HasSubstr("garbage: nul: sent\n"));
  EXPECT_THAT(r.out, HasSubstr("garbage: empty: sent\n"));
  EXPECT_THAT(r.out, HasSubstr("garbage: max: sent\n"));
  EXPECT_THAT(r.out, HasSubstr("garbage: over: Message too long\n"));
  EXPECT_THAT(r.out, HasSubstr("garbage: huge: Message too long\n"));
  EXPECT_THAT(r.out, HasSubstr("garbage: raised: sent\n")) << "SO_SNDBUF could not be raised";
  EXPECT_THAT(r.out, HasSubstr("garbage: good: sent\n"));
  // Handlers: the empty message, the 64 KiB one and "good"; nothing else.
  EXPECT_EQ(CountOf(r.out, "len: "), 3u) << r.out;
  EXPECT_THAT(r.out, HasSubstr("len: 0\n"));
  EXPECT_THAT(r.out, HasSubstr("len: 65536\n"));
  EXPECT_THAT(r.out, HasSubstr("len: 4\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("len: 100000")));
  // The supervisor's view: the NUL message and the one slipped past the sender's limit are
  // refused, each logged on stderr and in --events.
  auto events = dir.Events();
  auto refused = EventsOf(events, "trigger_refused", "len");
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_THAT(refused[0]["error"].get<std::string>(), HasSubstr("NUL"));
  EXPECT_THAT(refused[1]["error"].get<std::string>(),
              HasSubstr("message of 100000 bytes is over the limit of 65536 bytes"));
  EXPECT_EQ(CountOf(r.err, "len: request refused: "), 2u) << r.err;
  auto exits = EventsOf(events, "exit", "len");
  EXPECT_EQ(exits.size(), 3u);
  for (const auto& e : exits) EXPECT_EQ(e.value("exit_code", -1), 0);
}

}  // namespace
}  // namespace shim::testing
