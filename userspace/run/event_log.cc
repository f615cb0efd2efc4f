#include "run/event_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/errno_status.h"

namespace shim::run {

absl::StatusOr<std::unique_ptr<EventLog>> EventLog::Open(const std::string& path) {
  if (path.empty()) return std::unique_ptr<EventLog>(new EventLog(UniqueFd(), -1, path));
  if (path == "-") return std::unique_ptr<EventLog>(new EventLog(UniqueFd(), STDOUT_FILENO, path));
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644));
  if (!fd) return ErrnoStatus(absl::StrCat("--events: cannot open ", path), errno);
  const int raw = fd.get();
  return std::unique_ptr<EventLog>(new EventLog(std::move(fd), raw, path));
}

void EventLog::Write(nlohmann::ordered_json event) {
  if (fd_ < 0) return;
  nlohmann::ordered_json line;
  line["ts"] = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  for (auto& [key, value] : event.items()) line[key] = std::move(value);
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (dropped_ > 0) {
    // Try to say what was lost before this event, so readers can account for every request.
    nlohmann::ordered_json note;
    note["ts"] = line["ts"];
    note["event"] = "events_dropped";
    note["count"] = dropped_;
    text = note.dump() + "\n" + text;
  }
  text += '\n';
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = write(fd_, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (dropped_ == 0) {
        std::fprintf(stderr, "shim-bpf: --events %s: write failed (%s); counting dropped events\n",
                     path_.c_str(), n < 0 ? strerror(errno) : "no progress");
      }
      // A partial line may be on disk; the next successful write starts on a fresh line.
      ++dropped_;
      if (written > 0) (void)!write(fd_, "\n", 1);
      return;
    }
    written += static_cast<size_t>(n);
  }
  dropped_ = 0;
}

}  // namespace shim::run
