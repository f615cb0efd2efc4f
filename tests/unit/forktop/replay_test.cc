// The replay source: snapshots at once, the rest at their recorded pace times the speed; a file
// with a bad line is rejected with its line number; the store holds events back while paused.
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "app/event_source.h"
#include "app/store.h"
#include "events.h"

namespace shim::forktop {
namespace {

using namespace testing;  // NOLINT: the scripted event builders

std::vector<trace::ProcessEvent> Script() {
  // Recorded over 2 s: at speed 10 it replays in 200 ms.
  return {Snapshot(5, 1, 0, "init"), Fork(100 * kSec, 10, 1, "a"),
          Fork(100 * kSec + kSec / 2, 11, 1, "b"), Fork(102 * kSec, 12, 1, "c")};
}

TEST(ReplayTest, ReleasesEventsAtTheirPace) {
  auto src = ReplaySource::FromEvents(Script(), 10.0, "test");
  ASSERT_TRUE(src.ok()) << src.status();
  std::vector<int> seen;
  auto sink = [&](const trace::ProcessEvent& e) { seen.push_back(e.tgid); };
  pollfd p = {(*src)->fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 1000), 1);
  ASSERT_TRUE((*src)->Consume(sink).ok());
  EXPECT_EQ(seen, (std::vector<int>{1, 10}));  // the snapshot and the first event: due now
  EXPECT_FALSE((*src)->finished());
  const auto start = std::chrono::steady_clock::now();
  while (!(*src)->finished()) {
    ASSERT_EQ(::poll(&p, 1, 2000), 1);
    ASSERT_TRUE((*src)->Consume(sink).ok());
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(seen, (std::vector<int>{1, 10, 11, 12}));
  EXPECT_GE(took, std::chrono::milliseconds(150));  // 2 s / 10, minus what passed before
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  EXPECT_GE((*src)->NowNs(), 102 * kSec);
}

TEST(ReplayTest, SpeedZeroReleasesEverythingAtOnce) {
  auto src = ReplaySource::FromEvents(Script(), 0.0, "test");
  ASSERT_TRUE(src.ok());
  Store store(src->get());
  pollfd p = {(*src)->fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 1000), 1);
  ASSERT_TRUE(store.Pump().ok());
  EXPECT_TRUE((*src)->finished());
  EXPECT_EQ(store.tree().size(), 4u);
  EXPECT_EQ(store.tree().now_ns(), 102 * kSec);
}

TEST(ReplayTest, BadLineIsRejectedWithItsNumber) {
  const std::string path = ::testing::TempDir() + "forktop-bad-replay.jsonl";
  {
    std::ofstream out(path);
    out << trace::ToJsonLine(Fork(1, 2, 1)) << "\n\n{\"event\":\"fork\",\"pid\":\"x\"}\n";
  }
  auto src = ReplaySource::Open(path, 1.0);
  ASSERT_FALSE(src.ok());
  EXPECT_NE(src.status().message().find(":3: "), absl::string_view::npos) << src.status();
  std::remove(path.c_str());
}

TEST(StoreTest, PauseHoldsEventsAndTheClock) {
  Store store(nullptr);
  store.Apply(Fork(kSec, 10, 1, "a"));
  store.SetPaused(true);
  store.Apply(Exit(2 * kSec, 10, 0));
  EXPECT_FALSE(store.tree().Find(10)->exited);
  EXPECT_EQ(store.held_back(), 1u);
  store.SetPaused(false);
  EXPECT_TRUE(store.tree().Find(10)->exited);
  EXPECT_EQ(store.held_back(), 0u);
}

TEST(StoreTest, EntrypointsAreNamedFromTheCgroupPath) {
  Store store(nullptr);
  store.cgroup_path = [](uint64_t id) {
    return id == 7 ? std::string("/user.slice/shim-bpf/run-42/web/0") : std::string("/other");
  };
  trace::ProcessEvent in_run = Fork(kSec, 10, 1, "nginx");
  in_run.cgroup_id = 7;
  trace::ProcessEvent outside = Fork(kSec, 11, 1, "cron");
  outside.cgroup_id = 8;
  store.Apply(in_run);
  store.Apply(outside);
  EXPECT_EQ(store.tree().Find(10)->entrypoint, "web");
  EXPECT_EQ(store.tree().Find(11)->entrypoint, "");
}

}  // namespace
}  // namespace shim::forktop
