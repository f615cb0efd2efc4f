// Live mode: the BPF tracer (trace/tracer.h) behind the EventSource interface. The tracer's
// producers submit without wakeups, so the source's fd is an epoll set of the ring buffer and a
// 10 ms timerfd: the loop wakes at least every 10 ms and Consume drains the ring buffer.
#include <errno.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <deque>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "app/live.h"
#include "app/store.h"
#include "cgroup/cgroup2.h"
#include "common/errno_status.h"
#include "common/status_macros.h"
#include "trace/tracer.h"

namespace shim::forktop {
namespace {

constexpr long kConsumeIntervalNs = 10'000'000;

class TracerSource : public EventSource {
 public:
  static absl::StatusOr<std::unique_ptr<TracerSource>> Create(const trace::Scope& scope,
                                                              bool snapshot_only,
                                                              std::string description) {
    std::unique_ptr<TracerSource> src(new TracerSource);
    src->description_ = std::move(description);
    src->snapshot_only_ = snapshot_only;
    // Start tracing before reading /proc, so a process born in between is seen by one or both.
    if (!snapshot_only) {
      ASSIGN_OR_RETURN(src->tracer_, trace::Tracer::Start(scope));
    }
    ASSIGN_OR_RETURN(std::vector<trace::ProcessEvent> snapshot, trace::SnapshotProcesses(scope));
    src->pending_.assign(snapshot.begin(), snapshot.end());

    src->timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!src->timer_) return ErrnoStatus("timerfd_create", errno);
    itimerspec spec = {};
    spec.it_value.tv_nsec = 1;  // the snapshot is due at once
    if (!snapshot_only) spec.it_interval.tv_nsec = kConsumeIntervalNs;
    ::timerfd_settime(src->timer_.get(), 0, &spec, nullptr);

    src->epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!src->epoll_) return ErrnoStatus("epoll_create1", errno);
    epoll_event ev = {};
    ev.events = EPOLLIN;
    ev.data.fd = src->timer_.get();
    if (::epoll_ctl(src->epoll_.get(), EPOLL_CTL_ADD, src->timer_.get(), &ev) != 0) {
      return ErrnoStatus("epoll_ctl timerfd", errno);
    }
    if (src->tracer_) {
      ev.data.fd = src->tracer_->fd();
      if (::epoll_ctl(src->epoll_.get(), EPOLL_CTL_ADD, src->tracer_->fd(), &ev) != 0) {
        return ErrnoStatus("epoll_ctl ring buffer", errno);
      }
    }
    return src;
  }

  int fd() const override { return epoll_.get(); }

  absl::Status Consume(const EventSink& sink) override {
    epoll_event events[4];
    (void)::epoll_wait(epoll_.get(), events, 4, 0);  // clears readiness; the work is below
    uint64_t expirations;
    (void)!::read(timer_.get(), &expirations, sizeof expirations);
    while (!pending_.empty()) {
      sink(pending_.front());
      pending_.pop_front();
    }
    if (tracer_) return tracer_->Consume(sink);
    return absl::OkStatus();
  }

  bool finished() const override { return snapshot_only_ && pending_.empty(); }
  uint64_t NowNs() const override { return MonotonicNowNs(); }
  std::string Describe() const override { return description_; }

 private:
  TracerSource() = default;
  std::unique_ptr<trace::Tracer> tracer_;
  std::deque<trace::ProcessEvent> pending_;
  UniqueFd timer_;
  UniqueFd epoll_;
  bool snapshot_only_ = false;
  std::string description_;
};

// An absolute cgroup v2 directory for `path`: as given if it exists, else below the mount.
absl::StatusOr<std::string> ResolveCgroupDir(const std::string& mount, const std::string& path) {
  std::error_code ec;
  if (path.rfind(mount, 0) == 0 && std::filesystem::is_directory(path, ec)) return path;
  std::string below = mount;
  if (!path.empty() && path.front() != '/') below += '/';
  below += path;
  if (std::filesystem::is_directory(below, ec)) return below;
  return absl::NotFoundError(absl::StrCat("no cgroup v2 directory ", path, " (mount ", mount, ")"));
}

// The shim-bpf runs' parent cgroup: <own v2 cgroup>/shim-bpf, else <mount>/shim-bpf.
absl::StatusOr<std::string> FindShimCgroup(const std::string& mount) {
  std::error_code ec;
  absl::StatusOr<std::string> own = OwnCgroup2Dir();
  for (const std::string& base : {own.ok() ? *own : mount, mount}) {
    const std::string dir = base + "/shim-bpf";
    if (std::filesystem::is_directory(dir, ec)) return dir;
  }
  return absl::NotFoundError(
      "no running shim-bpf found (no shim-bpf cgroup below this process's cgroup v2 directory "
      "or the cgroup2 root)");
}

}  // namespace

absl::StatusOr<LiveSource> OpenLiveSource(const LiveScope& scope, bool snapshot_only) {
  trace::Scope s;
  LiveSource live;
  absl::StatusOr<std::string> mount = FindCgroup2Mount();
  if (scope.pid) {
    s.kind = trace::Scope::kSubtree;
    s.root_pid = *scope.pid;
    live.description = absl::StrCat("pid ", *scope.pid, " subtree");
  } else if (scope.cgroup || scope.shim) {
    if (!mount.ok()) return mount.status();
    std::string dir;
    if (scope.cgroup) {
      ASSIGN_OR_RETURN(dir, ResolveCgroupDir(*mount, *scope.cgroup));
    } else {
      ASSIGN_OR_RETURN(dir, FindShimCgroup(*mount));
    }
    s.kind = trace::Scope::kCgroup;
    ASSIGN_OR_RETURN(s.cgroup_id, CgroupIdOf(dir));
    live.description = scope.shim ? "shim-bpf runs" : absl::StrCat("cgroup ", *scope.cgroup);
  } else {
    live.description = "all processes";
  }
  ASSIGN_OR_RETURN(live.source, TracerSource::Create(s, snapshot_only, live.description));
  if (mount.ok()) {
    auto names = std::make_shared<CgroupNames>(*mount);
    live.cgroup_path = [names](uint64_t id) { return names->PathOf(id); };
  }
  return live;
}

}  // namespace shim::forktop
