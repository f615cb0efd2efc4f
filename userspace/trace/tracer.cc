#include "trace/tracer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/status_macros.h"
#include "proc_events.h"
#include "proc_events.skel.h"
#include "trace/event_decode.h"

namespace shim::trace {

struct Tracer::State {
  proc_events* skel = nullptr;
  ring_buffer* rb = nullptr;
  uint64_t lost_reported = 0;
  // Valid only during Consume(): where the ring buffer callback delivers.
  const std::function<void(const ProcessEvent&)>* sink = nullptr;
  absl::Status first_error;

  ~State() {
    // The ring buffer first (it maps the map), then links, programs and maps.
    if (rb != nullptr) ring_buffer__free(rb);
    if (skel != nullptr) proc_events__destroy(skel);
  }

  static int OnRecord(void* ctx, void* data, size_t size) {
    auto* self = static_cast<State*>(ctx);
    absl::StatusOr<ProcessEvent> event = DecodeProcEvent(data, size);
    if (!event.ok()) {
      // Keep draining: one bad record must not stall the stream behind it.
      if (self->first_error.ok()) self->first_error = event.status();
      return 0;
    }
    (*self->sink)(*event);
    return 0;
  }
};

namespace {

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

absl::Status TrackTgid(int map_fd, int32_t tgid) {
  uint8_t one = 1;
  if (bpf_map_update_elem(map_fd, &tgid, &one, BPF_ANY) != 0) {
    return ErrnoStatus(absl::StrCat("track pid ", tgid, " in the subtree map"));
  }
  return absl::OkStatus();
}

}  // namespace

Tracer::Tracer(std::unique_ptr<State> state) : state_(std::move(state)) {}
Tracer::~Tracer() = default;

absl::StatusOr<std::unique_ptr<Tracer>> Tracer::Start(const Scope& scope,
                                                      const TracerOptions& options) {
  const long page = sysconf(_SC_PAGESIZE);
  if (!IsPowerOfTwo(options.ring_buffer_bytes) || options.ring_buffer_bytes < page) {
    return absl::InvalidArgumentError(absl::StrCat("ring buffer size ", options.ring_buffer_bytes,
                                                   " is not a power of two >= the page size"));
  }
  if (scope.kind == Scope::kSubtree && (scope.root_pid <= 0 || kill(scope.root_pid, 0) != 0)) {
    return absl::NotFoundError(
        absl::StrCat("subtree root pid ", scope.root_pid, " does not exist"));
  }
  if (scope.kind == Scope::kCgroup && scope.cgroup_id == 0) {
    return absl::InvalidArgumentError("cgroup scope without a cgroup id");
  }

  auto state = std::make_unique<State>();
  state->skel = proc_events__open();
  if (state->skel == nullptr) return ErrnoStatus("open proc_events BPF object");
  switch (scope.kind) {
    case Scope::kAll:
      state->skel->rodata->scope_kind = SHIM_SCOPE_ALL;
      break;
    case Scope::kSubtree:
      state->skel->rodata->scope_kind = SHIM_SCOPE_SUBTREE;
      break;
    case Scope::kCgroup:
      state->skel->rodata->scope_kind = SHIM_SCOPE_CGROUP;
      state->skel->rodata->target_cgroup_id = scope.cgroup_id;
      break;
  }
  if (int err = bpf_map__set_max_entries(state->skel->maps.events, options.ring_buffer_bytes);
      err != 0) {
    return ErrnoStatus("size the proc_events ring buffer", -err);
  }
  if (int err = proc_events__load(state->skel); err != 0) {
    return ErrnoStatus("load proc_events BPF programs", -err);
  }
  const int tracked_fd = bpf_map__fd(state->skel->maps.tracked);
  if (scope.kind == Scope::kSubtree) RETURN_IF_ERROR(TrackTgid(tracked_fd, scope.root_pid));
  if (int err = proc_events__attach(state->skel); err != 0) {
    return ErrnoStatus("attach proc_events to sched_process_fork/exec/exit", -err);
  }
  if (scope.kind == Scope::kSubtree) {
    // Descendants that existed before the programs were attached are found in /proc. A process
    // that forked between attach and its own insertion shows up in the next pass; stop when a
    // pass finds nothing new (bounded: a fork bomb must not keep us here).
    for (int pass = 0; pass < 4; ++pass) {
      ASSIGN_OR_RETURN(std::vector<ProcessEvent> existing, SnapshotProcesses(scope));
      bool added = false;
      for (const ProcessEvent& p : existing) {
        uint8_t value = 0;
        if (bpf_map_lookup_elem(tracked_fd, &p.tgid, &value) == 0) continue;
        RETURN_IF_ERROR(TrackTgid(tracked_fd, p.tgid));
        added = true;
      }
      if (!added) break;
    }
  }
  state->rb = ring_buffer__new(bpf_map__fd(state->skel->maps.events), &State::OnRecord, state.get(),
                               nullptr);
  if (state->rb == nullptr) return ErrnoStatus("open the proc_events ring buffer");
  return std::unique_ptr<Tracer>(new Tracer(std::move(state)));
}

int Tracer::fd() const { return ring_buffer__epoll_fd(state_->rb); }

uint64_t Tracer::lost() const {
  // Updated atomically by the programs in the mmap()ed .bss; a volatile read sees the latest.
  const volatile __u64* dropped = &state_->skel->bss->dropped;
  return *dropped;
}

absl::Status Tracer::Consume(const std::function<void(const ProcessEvent&)>& sink) {
  state_->sink = &sink;
  state_->first_error = absl::OkStatus();
  int n = ring_buffer__consume(state_->rb);
  state_->sink = nullptr;
  if (n < 0) return ErrnoStatus("consume the proc_events ring buffer", -n);
  const uint64_t lost_now = lost();
  if (lost_now > state_->lost_reported) {
    ProcessEvent event;
    event.kind = EventKind::kLost;
    event.lost = lost_now - state_->lost_reported;
    struct timespec now {};
    clock_gettime(CLOCK_MONOTONIC, &now);
    event.timestamp_ns = static_cast<uint64_t>(now.tv_sec) * 1000000000ull + now.tv_nsec;
    state_->lost_reported = lost_now;
    sink(event);
  }
  return std::exchange(state_->first_error, absl::OkStatus());
}

}  // namespace shim::trace
