#include "app/event_source.h"

#include <errno.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace shim::forktop {

uint64_t MonotonicNowNs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

absl::StatusOr<std::unique_ptr<ReplaySource>> ReplaySource::Open(const std::string& path,
                                                                 double speed) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open replay file ", path));
  std::vector<trace::ProcessEvent> events;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto event = trace::FromJsonLine(line);
    if (!event.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": ", event.status().message()));
    }
    events.push_back(*std::move(event));
  }
  return FromEvents(std::move(events), speed, absl::StrCat("replay ", path));
}

absl::StatusOr<std::unique_ptr<ReplaySource>> ReplaySource::FromEvents(
    std::vector<trace::ProcessEvent> events, double speed, std::string name) {
  std::unique_ptr<ReplaySource> src(new ReplaySource);
  src->events_ = std::move(events);
  src->speed_ = std::max(0.0, speed);
  src->name_ = std::move(name);
  for (const auto& e : src->events_) {
    if (e.kind != trace::EventKind::kSnapshot) {
      src->base_ns_ = e.timestamp_ns;
      break;
    }
  }
  src->last_ns_ = src->base_ns_;
  for (const auto& e : src->events_) {
    if (e.kind != trace::EventKind::kSnapshot)
      src->last_ns_ = std::max(src->last_ns_, e.timestamp_ns);
  }
  src->timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!src->timer_) return ErrnoStatus("timerfd_create", errno);
  src->start_mono_ = MonotonicNowNs();
  src->Arm();
  return src;
}

uint64_t ReplaySource::ElapsedReplayNs() const {
  if (speed_ == 0) return UINT64_MAX / 2;
  return static_cast<uint64_t>(static_cast<double>(MonotonicNowNs() - start_mono_) * speed_);
}

uint64_t ReplaySource::NowNs() const {
  if (speed_ == 0) return last_ns_;  // everything is released at once
  return base_ns_ + ElapsedReplayNs();
}

void ReplaySource::Arm() {
  itimerspec spec = {};
  if (next_ < events_.size()) {
    const auto& e = events_[next_];
    uint64_t wait_ns = 1;
    if (e.kind != trace::EventKind::kSnapshot && speed_ > 0 && e.timestamp_ns > base_ns_) {
      const double due = static_cast<double>(e.timestamp_ns - base_ns_) / speed_;
      const double now = static_cast<double>(MonotonicNowNs() - start_mono_);
      if (due > now) wait_ns = static_cast<uint64_t>(due - now) + 1;
    }
    spec.it_value.tv_sec = static_cast<time_t>(wait_ns / 1'000'000'000);
    spec.it_value.tv_nsec = static_cast<long>(wait_ns % 1'000'000'000);
  }
  ::timerfd_settime(timer_.get(), 0, &spec, nullptr);
}

absl::Status ReplaySource::Consume(const EventSink& sink) {
  uint64_t expirations;
  (void)!::read(timer_.get(), &expirations, sizeof expirations);
  const uint64_t elapsed = ElapsedReplayNs();
  while (next_ < events_.size()) {
    const auto& e = events_[next_];
    const bool due = e.kind == trace::EventKind::kSnapshot || e.timestamp_ns <= base_ns_ ||
                     e.timestamp_ns - base_ns_ <= elapsed;
    if (!due) break;
    sink(e);
    ++next_;
  }
  Arm();
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Recorder>> Recorder::Create(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "we");
  if (f == nullptr) return ErrnoStatus(absl::StrCat("open ", path), errno);
  return std::unique_ptr<Recorder>(new Recorder(f));
}

Recorder::~Recorder() { std::fclose(file_); }

void Recorder::Write(const trace::ProcessEvent& event) {
  const std::string line = trace::ToJsonLine(event) + "\n";
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);  // a recording cut short by a kill stays readable
}

}  // namespace shim::forktop
