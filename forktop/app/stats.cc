#include "app/stats.h"

#include <errno.h>
#include <sys/resource.h>

#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace shim::forktop {

std::string StatsJson(const RunStats& stats) {
  nlohmann::ordered_json j;
  j["frames"] = stats.frames.frames;
  j["frame_cpu_ns_total"] = stats.frames.cpu_ns;
  j["frame_cpu_ns"] = stats.frames.samples_ns;
  j["process_cpu_ns"] = stats.process_cpu_ns;
  j["wall_ns"] = stats.wall_ns;
  return j.dump();
}

absl::StatusOr<std::unique_ptr<StatsFile>> StatsFile::Create(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "we");
  if (f == nullptr) return ErrnoStatus(absl::StrCat("open ", path), errno);
  return std::unique_ptr<StatsFile>(new StatsFile(f, path));
}

StatsFile::~StatsFile() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status StatsFile::Write(const RunStats& stats) {
  if (file_ == nullptr) return absl::FailedPreconditionError("stats were already written");
  const std::string text = StatsJson(stats) + "\n";
  const bool written = std::fwrite(text.data(), 1, text.size(), file_) == text.size();
  const int write_errno = errno;
  // fclose flushes: a full disk may only show here.
  const bool closed = std::fclose(file_) == 0;
  const int close_errno = errno;
  file_ = nullptr;
  if (!written) return ErrnoStatus(absl::StrCat("write ", path_), write_errno);
  if (!closed) return ErrnoStatus(absl::StrCat("write ", path_), close_errno);
  return absl::OkStatus();
}

int64_t ProcessCpuNs() {
  rusage usage = {};
  ::getrusage(RUSAGE_SELF, &usage);
  auto ns = [](const timeval& tv) {
    return static_cast<int64_t>(tv.tv_sec) * 1'000'000'000 +
           static_cast<int64_t>(tv.tv_usec) * 1000;
  };
  return ns(usage.ru_utime) + ns(usage.ru_stime);
}

}  // namespace shim::forktop
