// forktop --stats: the JSON a benchmark reads, written once to a file opened at start (so a bad
// path fails before the terminal is taken), and the process CPU clock it reports.
#include "app/stats.h"

#include <gtest/gtest.h>
#include <time.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace shim::forktop {
namespace {

RunStats Sample() {
  RunStats s;
  s.frames.frames = 4;
  s.frames.cpu_ns = 1000 + 2000 + 3000 + 4000;
  s.frames.samples_ns = {1000, 2000, 3000};  // bounded: fewer samples than frames
  s.process_cpu_ns = 50'000;
  s.wall_ns = 2'000'000'000;
  return s;
}

TEST(ForktopStatsTest, JsonHasEveryFigure) {
  const nlohmann::json j = nlohmann::json::parse(StatsJson(Sample()));
  EXPECT_EQ(j["frames"], 4);
  EXPECT_EQ(j["frame_cpu_ns_total"], 10'000);
  EXPECT_EQ(j["frame_cpu_ns"], nlohmann::json::array({1000, 2000, 3000}));
  EXPECT_EQ(j["process_cpu_ns"], 50'000);
  EXPECT_EQ(j["wall_ns"], 2'000'000'000);
}

TEST(ForktopStatsTest, FileIsWrittenOnceAsOneJsonLine) {
  const std::string path = ::testing::TempDir() + "forktop-stats-test.json";
  auto file = StatsFile::Create(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Write(Sample()).ok());
  EXPECT_FALSE((*file)->Write(Sample()).ok());  // closed after the first write
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), StatsJson(Sample()) + "\n");
  std::remove(path.c_str());
}

TEST(ForktopStatsTest, UnwritablePathFailsAtCreateNamingIt) {
  auto file = StatsFile::Create("/nonexistent-dir/stats.json");
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.status().message().find("/nonexistent-dir/stats.json"), absl::string_view::npos)
      << file.status();
}

TEST(ForktopStatsTest, ProcessCpuCountsWorkDone) {
  const int64_t before = ProcessCpuNs();
  // Burn ~30 ms of this thread's CPU; getrusage must see most of it.
  timespec start, now;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
  volatile uint64_t sink = 0;
  do {
    for (int i = 0; i < 10000; ++i) sink = sink + static_cast<uint64_t>(i);
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  } while ((now.tv_sec - start.tv_sec) * 1'000'000'000 + (now.tv_nsec - start.tv_nsec) <
           30'000'000);
  EXPECT_GE(ProcessCpuNs() - before, 20'000'000);
}

}  // namespace
}  // namespace shim::forktop
