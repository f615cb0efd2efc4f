// Soak: many requests through one run, every one accounted for, and nothing growing.
//   (a) N pipe-triggered requests: spawned == exited == N, all exit 0.
//   (b) M echo connections, 100 concurrent: every byte echoed, one handler process per
//       connection; the supervisor's fd count, RSS (within 5%) and cgroup count after a warm-up
//       and at the end are equal; nothing of the run is left afterwards.
// Default sizes fit CI (N=5,000, M=10,000; N=1,000, M=2,000 in the ASan build);
// SHIM_SOAK_SCALE=full (scripts/test.sh --long) runs N=100,000, M=10,000.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
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

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

TEST(SoakE2e, EveryPipeTriggeredRequestIsAccountedFor) {
  SHIM_REQUIRE_PRIVILEGED();
  // The ASan build checks memory errors, not throughput: a smaller soak there.
  const int n = FullSoak() ? 100000 : kAsan ? 1000 : 5000;
  RunFixtureDir dir;
  // `flood` sends N messages "0"; each starts an `exit` handler that exits 0.
  std::string spec = dir.WriteSpec(R"(
      "flood": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "p"}}, "Trailing"],
                "environment": ["Stdout"]},
      "exit": {"trigger": {"Pipe": "p"}, "args": ["BinaryName", "Entrypoint", "Trigger"]})");
  const auto start = std::chrono::steady_clock::now();
  CommandResult r = RunCommand(
      {kShim, "run", "-q", spec, "--events", dir.events_path(), "--", std::to_string(n), "0"}, "",
      std::chrono::seconds(FullSoak() ? 850 : 120));
  const double took = Seconds(start);
  std::printf("soak: %d pipe-triggered requests in %.1f s (%.0f/s)\n", n, took, n / took);
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "flood: sent " + std::to_string(n) + "\n");
  auto events = dir.Events();
  std::set<std::string> spawned, exited;
  int exit_zero = 0;
  for (const nlohmann::json& e : events) {
    if (e.value("entrypoint", "") != "exit") continue;
    if (e["event"] == "spawn") spawned.insert(e["instance"].get<std::string>());
    if (e["event"] == "exit") {
      exited.insert(e["instance"].get<std::string>());
      if (e.value("exit_code", -1) == 0) ++exit_zero;
    }
  }
  EXPECT_EQ(spawned.size(), static_cast<size_t>(n));
  EXPECT_EQ(exited, spawned) << "spawned != exited";
  EXPECT_EQ(exit_zero, n);
  EXPECT_TRUE(EventsOf(events, "trigger_refused").empty());
  EXPECT_TRUE(EventsOf(events, "spawn_failed").empty());
  EXPECT_TRUE(EventsOf(events, "events_dropped").empty());
  EXPECT_EQ(EventsOf(events, "run_end").at(0)["exit_code"], 0);
  EXPECT_TRUE(CgroupDirsOfRun(RunIdOf(events)).empty());
}

// Spawn and exit counts of the echo handlers so far (a cheap scan of the events file).
std::pair<int, int> HandlerCounts(const RunFixtureDir& dir) {
  std::istringstream lines(ReadFileOrEmpty(dir.events_path()));
  int spawns = 0, exits = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"entrypoint\":\"request_handler\"") == std::string::npos) continue;
    if (line.find("\"event\":\"spawn\"") != std::string::npos) ++spawns;
    if (line.find("\"event\":\"exit\"") != std::string::npos) ++exits;
  }
  return {spawns, exits};
}

struct Sample {
  int fds;
  long rss_kib;
  int cgroup_dirs;
};

TEST(SoakE2e, EchoConnectionsLeakNothing) {
  SHIM_REQUIRE_PRIVILEGED();
  constexpr int kConcurrent = 100;
  const int m = kAsan && !FullSoak() ? 2000 : 10000;
  const int warmup = m / 10;
  RunFixtureDir dir;
  EchoServer server(dir);
  const pid_t supervisor = server.run().pid();
  const std::string run_id = RunIdOf(dir.Events());
  ASSERT_FALSE(run_id.empty()) << server.run().Err();

  std::atomic<int> wrong{0};
  // `count` connections from kConcurrent client threads; each message is distinct.
  auto connections = [&](int first, int count) {
    std::vector<std::thread> clients;
    for (int c = 0; c < kConcurrent; ++c) {
      clients.emplace_back([&, c] {
        for (int i = first + c; i < first + count; i += kConcurrent) {
          const std::string message =
              "connection " + std::to_string(i) + " " + std::string(100 + i % 1000, 'e');
          if (EchoOnce(server.port(), message) != message) ++wrong;
        }
      });
    }
    for (std::thread& t : clients) t.join();
  };
  // Quiet: every handler has exited (only the spare instance cgroup remains).
  auto sample_when_quiet = [&] {
    EXPECT_TRUE(WaitUntil(
        [&] {
          auto [spawns, exits] = HandlerCounts(dir);
          return spawns == exits;
        },
        std::chrono::seconds(30)));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return Sample{FdCount(supervisor), RssKib(supervisor), CgroupDirCountOfRun(run_id)};
  };

  const auto start = std::chrono::steady_clock::now();
  connections(0, warmup);
  const Sample warm = sample_when_quiet();
  connections(warmup, m - warmup);
  const double took = Seconds(start);
  const Sample end = sample_when_quiet();
  std::printf(
      "soak: %d echo connections (%d concurrent) in %.1f s (%.0f/s); supervisor fds %d -> "
      "%d, RSS %ld -> %ld KiB, cgroup dirs %d -> %d\n",
      m, kConcurrent, took, m / took, warm.fds, end.fds, warm.rss_kib, end.rss_kib,
      warm.cgroup_dirs, end.cgroup_dirs);

  EXPECT_EQ(wrong.load(), 0) << "connections not echoed byte for byte";
  EXPECT_EQ(end.fds, warm.fds);
  if (!kAsan) {
    EXPECT_LE(std::abs(end.rss_kib - warm.rss_kib), warm.rss_kib / 20)
        << "RSS " << warm.rss_kib << " -> " << end.rss_kib << " KiB";
  }
  EXPECT_EQ(end.cgroup_dirs, warm.cgroup_dirs);

  server.run().Signal(SIGTERM);
  EXPECT_EQ(server.run().Wait(std::chrono::seconds(15)), 0) << server.run().Err();
  auto events = dir.Events();
  auto spawns = EventsOf(events, "spawn", "request_handler");
  auto exits = EventsOf(events, "exit", "request_handler");
  EXPECT_EQ(spawns.size(), static_cast<size_t>(m + 1));  // and the readiness ping
  EXPECT_EQ(exits.size(), spawns.size());
  // One process per connection. pid_max may be small (32768 here), so a pid may come back,
  // but only after the process that had it exited: no handler ever served two connections.
  std::map<std::string, double> exit_ts;
  for (const auto& e : exits) exit_ts[e["instance"].get<std::string>()] = e["ts"].get<double>();
  std::map<int, double> pid_free_at;  // when the last handler with this pid exited
  std::set<std::string> instances;
  for (const auto& s : spawns) {
    const int pid = s["pid"].get<int>();
    const std::string instance = s["instance"].get<std::string>();
    EXPECT_TRUE(instances.insert(instance).second) << instance;
    if (auto it = pid_free_at.find(pid); it != pid_free_at.end()) {
      EXPECT_LE(it->second, s["ts"].get<double>()) << "pid " << pid << " served two at once";
    }
    ASSERT_EQ(exit_ts.count(instance), 1u) << instance;
    pid_free_at[pid] = exit_ts[instance];
  }
  for (const char* kind : {"trigger_refused", "spawn_failed"}) {
    auto refused = EventsOf(events, kind);
    EXPECT_TRUE(refused.empty()) << refused.size() << " " << kind << ", the first: "
                                 << (refused.empty() ? "" : refused.front().dump());
  }
  EXPECT_TRUE(CgroupDirsOfRun(run_id).empty());
}

}  // namespace
}  // namespace shim::testing
