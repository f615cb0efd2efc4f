#include "run/run_tracer.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/annotate.h"
#include "run/events.h"
#include "trace/process_event.h"

namespace shim::run {

absl::StatusOr<std::unique_ptr<RunTracer>> RunTracer::Start(uint64_t run_cgroup_id) {
  trace::Scope scope;
  scope.kind = trace::Scope::kCgroup;
  scope.cgroup_id = run_cgroup_id;
  absl::StatusOr<std::unique_ptr<trace::Tracer>> tracer = trace::Tracer::Start(scope);
  if (!tracer.ok()) {
    return Annotate(tracer.status(), "--trace");
  }
  return std::unique_ptr<RunTracer>(new RunTracer(*std::move(tracer)));
}

void RunTracer::Drain(EventLog& events) {
  absl::Status status = tracer_->Consume([&](const trace::ProcessEvent& event) {
    trace::ProcessEvent named = event;
    if (auto it = entrypoints_.find(event.cgroup_id); it != entrypoints_.end()) {
      named.entrypoint = it->second;
    }
    events.Write(events::Process(named));
  });
  if (!status.ok()) {
    std::fprintf(stderr, "shim-bpf: --trace: %s\n", std::string(status.message()).c_str());
  }
}

}  // namespace shim::run
