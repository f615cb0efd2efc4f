// Runs the process tracer over the whole machine and discards the events: the cost of tracing
// alone, for bench/cases/tracer.sh. Prints "ready" once attached and, on SIGINT/SIGTERM, the
// totals: "events N lost M".
//
//   trace_sink [--json]   (--json writes every event as a JSON line to stdout instead)
#include <poll.h>
#include <signal.h>

#include <cstdio>
#include <cstring>

#include "trace/tracer.h"

namespace {
volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  const bool json = argc > 1 && std::strcmp(argv[1], "--json") == 0;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto tracer = shim::trace::Tracer::Start(shim::trace::Scope{});
  if (!tracer.ok()) {
    std::fprintf(stderr, "trace_sink: %s\n", tracer.status().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "ready\n");
  unsigned long long events = 0;
  auto sink = [&](const shim::trace::ProcessEvent& e) {
    ++events;
    if (json) std::printf("%s\n", shim::trace::ToJsonLine(e).c_str());
  };
  while (!g_stop) {
    pollfd p{(*tracer)->fd(), POLLIN, 0};
    poll(&p, 1, 10);  // the producer never wakes us: a 10 ms tick drains the buffer
    if (absl::Status s = (*tracer)->Consume(sink); !s.ok()) {
      std::fprintf(stderr, "trace_sink: %s\n", s.ToString().c_str());
    }
  }
  (void)(*tracer)->Consume(sink);
  std::fprintf(stderr, "events %llu lost %llu\n", events,
               static_cast<unsigned long long>((*tracer)->lost()));
  return 0;
}
