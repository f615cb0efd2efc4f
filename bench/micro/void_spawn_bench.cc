// Warm void spawns: the n-th instance of one prepared entrypoint (the path triggers use), from
// Spawn to reaped, next to bare vfork+exec of the same static binary. Needs root; without it the
// void cases report an error instead of a time.
#include <benchmark/benchmark.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>

#include "spec/model.h"
#include "void/void.h"

#ifndef SHIM_TRIVIAL_BINARY
#error "SHIM_TRIVIAL_BINARY must name the static trivial binary"
#endif

namespace {

void BM_VforkExecBaseline(benchmark::State& state) {
  char* argv[] = {const_cast<char*>("trivial"), nullptr};
  char* envp[] = {nullptr};
  for (auto _ : state) {
    pid_t pid;
    if (posix_spawn(&pid, SHIM_TRIVIAL_BINARY, nullptr, nullptr, argv, envp) != 0) {
      state.SkipWithError("posix_spawn failed");
      break;
    }
    int status;
    waitpid(pid, &status, 0);
  }
}
BENCHMARK(BM_VforkExecBaseline)->UseRealTime();

void BM_VoidSpawnWarm(benchmark::State& state) {
  shim::spec::Entrypoint entrypoint;
  entrypoint.name = "bench";
  entrypoint.binary_path = SHIM_TRIVIAL_BINARY;
  auto prepared = shim::sandbox::PreparedVoid::Prepare(entrypoint);
  if (!prepared.ok()) {
    state.SkipWithError(std::string(prepared.status().message()).c_str());
    return;
  }
  shim::sandbox::SpawnRequest request;
  request.argv = {"trivial"};
  for (auto _ : state) {
    auto instance = (*prepared)->Spawn(request);
    if (!instance.ok()) {
      state.SkipWithError(std::string(instance.status().message()).c_str());
      break;
    }
    siginfo_t info;
    waitid(P_PIDFD, instance->pidfd.get(), &info, WEXITED);
  }
}
BENCHMARK(BM_VoidSpawnWarm)->UseRealTime();

}  // namespace
