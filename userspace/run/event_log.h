// `--events FILE|-`: one JSON object per line for every spawn, exit, refusal and error of a run,
// for tools and tests. Losing the log must never stop the run: a failed write (a full disk) is
// reported once on stderr, later events are counted as dropped, and the count is logged at the end
// if the file recovers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "nlohmann/json.hpp"

namespace shim::run {

class EventLog {
 public:
  // "-" is stdout; "" disables the log (Write does nothing).
  static absl::StatusOr<std::unique_ptr<EventLog>> Open(const std::string& path);

  // Adds "ts" (seconds since the epoch, with microseconds) and writes one line.
  void Write(nlohmann::ordered_json event);

  uint64_t dropped() const { return dropped_; }

 private:
  EventLog(UniqueFd owned, int fd, std::string path)
      : owned_(std::move(owned)), fd_(fd), path_(std::move(path)) {}

  UniqueFd owned_;  // the file, when not stdout
  int fd_;          // -1: disabled
  std::string path_;
  uint64_t dropped_ = 0;
};

}  // namespace shim::run
