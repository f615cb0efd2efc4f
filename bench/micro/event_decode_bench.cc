// Tracer event decoding: what the supervisor (`run --trace`) and forktop pay per fork, exec and
// exit record taken from the ring buffer, and the JSON Lines round trip of --events, --record
// and --replay.
#include <benchmark/benchmark.h>

#include <cstring>

#include "proc_events.h"
#include "trace/event_decode.h"
#include "trace/process_event.h"

namespace {

shim_proc_event Record(uint32_t kind) {
  shim_proc_event e{};
  e.kind = kind;
  e.ts_ns = 123456789;
  e.cgroup_id = 4242;
  e.pid = 812;
  e.tgid = 812;
  e.parent_tgid = 1;
  std::strcpy(e.comm, "request_handler");
  if (kind == SHIM_PROC_EXEC) {
    const char filename[] = "/usr/lib/postgresql/15/bin/postgres";
    std::memcpy(e.filename, filename, sizeof(filename));
    e.filename_len = sizeof(filename);
    const char args[] = "postgres\0-D\0/var/lib/postgresql/15/main\0-c\0config_file=/etc/pg.conf";
    std::memcpy(e.args, args, sizeof(args));
    e.args_len = sizeof(args);
  }
  if (kind == SHIM_PROC_EXIT) e.exit_code = 1 << 8;
  return e;
}

// Arg: the record kind (1 fork, 2 exec, 3 exit).
void BM_DecodeProcEvent(benchmark::State& state) {
  const shim_proc_event e = Record(static_cast<uint32_t>(state.range(0)));
  const size_t size = e.kind == SHIM_PROC_EXEC ? sizeof(e) : SHIM_PROC_HEADER_SIZE;
  for (auto _ : state) {
    auto event = shim::trace::DecodeProcEvent(&e, size);
    benchmark::DoNotOptimize(event);
  }
}
BENCHMARK(BM_DecodeProcEvent)->Arg(SHIM_PROC_FORK)->Arg(SHIM_PROC_EXEC)->Arg(SHIM_PROC_EXIT);

void BM_ExecEventJsonRoundTrip(benchmark::State& state) {
  const shim_proc_event e = Record(SHIM_PROC_EXEC);
  auto event = shim::trace::DecodeProcEvent(&e, sizeof(e));
  if (!event.ok()) {
    state.SkipWithError("the exec record did not decode");
    return;
  }
  for (auto _ : state) {
    std::string line = shim::trace::ToJsonLine(*event);
    auto parsed = shim::trace::FromJsonLine(line);
    benchmark::DoNotOptimize(parsed);
  }
}
BENCHMARK(BM_ExecEventJsonRoundTrip);

}  // namespace
