#include "trace/exec_counter.h"

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "exec_count.skel.h"

namespace shim {

void ExecCounter::SkeletonDeleter::operator()(exec_count* skel) const {
  exec_count__destroy(skel);
}

ExecCounter::ExecCounter(std::unique_ptr<exec_count, SkeletonDeleter> skel)
    : skel_(std::move(skel)) {}
ExecCounter::ExecCounter(ExecCounter&&) noexcept = default;
ExecCounter& ExecCounter::operator=(ExecCounter&&) noexcept = default;
ExecCounter::~ExecCounter() = default;

absl::StatusOr<ExecCounter> ExecCounter::Attach(uint64_t cgroup_id) {
  std::unique_ptr<exec_count, SkeletonDeleter> skel(exec_count__open());
  if (!skel) return ErrnoStatus("open exec_count BPF object");
  skel->rodata->target_cgroup_id = cgroup_id;
  if (int err = exec_count__load(skel.get()); err != 0) {
    return ErrnoStatus("load exec_count BPF programs", -err);
  }
  if (int err = exec_count__attach(skel.get()); err != 0) {
    return ErrnoStatus("attach exec_count to sched_process_exec/exit", -err);
  }
  return ExecCounter(std::move(skel));
}

exec_count_stats ExecCounter::stats() const {
  // The counters are updated atomically by the kernel; a volatile read sees the latest value.
  const volatile exec_count_stats* live = &skel_->bss->stats;
  return exec_count_stats{live->execs, live->exits};
}

}  // namespace shim
