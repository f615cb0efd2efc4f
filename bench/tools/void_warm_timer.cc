// Times warm void spawns: one entrypoint prepared once (untimed), then ITERATIONS instances of it
// started and reaped, one sample (ns, Spawn to reaped) a line, like spawn_timer. This is the path
// triggers use: the n-th void of an entrypoint. Needs root.
//
//   void_warm_timer ITERATIONS STATIC_BINARY
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "spec/model.h"
#include "void/void.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: void_warm_timer ITERATIONS STATIC_BINARY\n");
    return 2;
  }
  const long iterations = std::strtol(argv[1], nullptr, 10);
  shim::spec::Entrypoint entrypoint;
  entrypoint.name = "bench";
  entrypoint.binary_path = argv[2];
  auto prepared = shim::sandbox::PreparedVoid::Prepare(entrypoint);
  if (!prepared.ok()) {
    std::fprintf(stderr, "void_warm_timer: %s\n", std::string(prepared.status().message()).c_str());
    return 1;
  }
  shim::sandbox::SpawnRequest request;
  request.argv = {"trivial"};
  for (long i = 0; i < iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto instance = (*prepared)->Spawn(request);
    if (!instance.ok()) {
      std::fprintf(stderr, "void_warm_timer: %s\n",
                   std::string(instance.status().message()).c_str());
      return 1;
    }
    siginfo_t info = {};
    if (waitid(P_PIDFD, instance->pidfd.get(), &info, WEXITED) != 0 ||
        info.si_code != CLD_EXITED || info.si_status != 0) {
      std::fprintf(stderr, "void_warm_timer: instance %ld failed\n", i);
      return 1;
    }
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    std::printf("%lld\n", static_cast<long long>(ns));
  }
  return 0;
}
