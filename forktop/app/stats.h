// forktop --stats FILE: what drawing cost during a run, written as JSON when the UI exits, so a
// benchmark (bench/cases/forktop.sh) measures the real binary in a real terminal without
// scraping the screen. Nothing is collected beyond what the event loop counts anyway, plus each
// frame's CPU time (bounded, see kMaxFrameSamples).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tui/loop.h"

namespace shim::forktop {

// Per-frame samples kept for --stats: an hour at the 30 frames/s cap, 864 kB.
inline constexpr size_t kMaxFrameSamples = 108'000;

struct RunStats {
  tui::FrameStats frames;
  int64_t process_cpu_ns = 0;  // user + system CPU of the whole process (getrusage), until exit
  int64_t wall_ns = 0;         // from the UI's start to its end
};

// {"frames":N,"frame_cpu_ns_total":T,"frame_cpu_ns":[...],"process_cpu_ns":P,"wall_ns":W}
// (one line; frame_cpu_ns holds the first kMaxFrameSamples frames, so it may be shorter than
// "frames").
std::string StatsJson(const RunStats& stats);

// The --stats file: opened (created or truncated) at start, so a path that cannot be written
// fails before the terminal is taken rather than after a long session; written once at exit.
class StatsFile {
 public:
  static absl::StatusOr<std::unique_ptr<StatsFile>> Create(const std::string& path);
  ~StatsFile();
  StatsFile(const StatsFile&) = delete;
  StatsFile& operator=(const StatsFile&) = delete;

  // Writes StatsJson(stats) and a newline, and closes the file.
  absl::Status Write(const RunStats& stats);

 private:
  StatsFile(std::FILE* f, std::string path) : file_(f), path_(std::move(path)) {}
  std::FILE* file_;
  std::string path_;
};

// This process's user + system CPU time so far.
int64_t ProcessCpuNs();

}  // namespace shim::forktop
