// Where forktop's events come from: a replay file (no privilege needed) or the live tracer.
// Both are pollable fds driven by the same loop, so the UI cannot tell them apart.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "trace/process_event.h"

namespace shim::forktop {

using EventSink = std::function<void(const trace::ProcessEvent&)>;

class EventSource {
 public:
  virtual ~EventSource() = default;
  // Readable when Consume has something to do (-1: nothing to poll).
  virtual int fd() const = 0;
  // Delivers the events that are due.
  virtual absl::Status Consume(const EventSink& sink) = 0;
  // No more events will come (the end of a replay).
  virtual bool finished() const = 0;
  // The events' clock now (CLOCK_MONOTONIC ns for live events, the replayed time for a replay).
  virtual uint64_t NowNs() const = 0;
  virtual std::string Describe() const = 0;
};

// Reads a JSON Lines file (forktop --record, shim-bpf run --events) and releases its events at
// their recorded pace times `speed` (0: all at once). Snapshot events come first, immediately.
class ReplaySource : public EventSource {
 public:
  static absl::StatusOr<std::unique_ptr<ReplaySource>> Open(const std::string& path, double speed);
  // From events already in memory (tests, benchmarks).
  static absl::StatusOr<std::unique_ptr<ReplaySource>> FromEvents(
      std::vector<trace::ProcessEvent> events, double speed, std::string name);

  int fd() const override { return timer_.get(); }
  absl::Status Consume(const EventSink& sink) override;
  bool finished() const override { return next_ >= events_.size(); }
  uint64_t NowNs() const override;
  std::string Describe() const override { return name_; }
  size_t size() const { return events_.size(); }

 private:
  ReplaySource() = default;
  uint64_t ElapsedReplayNs() const;
  void Arm();

  std::vector<trace::ProcessEvent> events_;
  size_t next_ = 0;
  double speed_ = 1.0;
  uint64_t base_ns_ = 0;     // the recorded time replay starts at
  uint64_t last_ns_ = 0;     // the latest recorded time (the clock at speed 0)
  uint64_t start_mono_ = 0;  // when the replay started (CLOCK_MONOTONIC)
  UniqueFd timer_;
  std::string name_;
};

// Writes every event it sees to a JSON Lines file (--record).
class Recorder {
 public:
  static absl::StatusOr<std::unique_ptr<Recorder>> Create(const std::string& path);
  ~Recorder();
  void Write(const trace::ProcessEvent& event);

 private:
  explicit Recorder(std::FILE* f) : file_(f) {}
  std::FILE* file_;
};

uint64_t MonotonicNowNs();

}  // namespace shim::forktop
