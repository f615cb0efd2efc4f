// Loads and attaches exec_count.bpf.c: counts exec()s and process exits in one cgroup v2.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "exec_count.h"

struct exec_count;  // the bpftool-generated skeleton

namespace shim {

class ExecCounter {
 public:
  // Loads the programs with `cgroup_id` baked in and attaches them to the tracepoints.
  static absl::StatusOr<ExecCounter> Attach(uint64_t cgroup_id);

  ExecCounter(ExecCounter&&) noexcept;
  ExecCounter& operator=(ExecCounter&&) noexcept;
  ~ExecCounter();

  exec_count_stats stats() const;

 private:
  struct SkeletonDeleter {
    void operator()(exec_count* skel) const;
  };
  explicit ExecCounter(std::unique_ptr<exec_count, SkeletonDeleter> skel);

  std::unique_ptr<exec_count, SkeletonDeleter> skel_;
};

}  // namespace shim
