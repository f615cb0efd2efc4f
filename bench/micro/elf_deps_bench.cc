// ELF dependency resolution (userspace/void/elf_deps.h): what preparing an entrypoint's void pays
// once per entrypoint and run, before its first spawn, to find the interpreter and libraries it
// binds read-only. Three binaries: the echo example built dynamically (C, libc only), python3 (a
// handful of libraries) and shim-bpf itself (C++ with its other dependencies linked statically:
// libc and libm). Files come from the page cache after the first iteration, so this is the
// parsing and path search, not the disk.
#include <benchmark/benchmark.h>

#include <string>

#include "void/elf_deps.h"

#ifndef SHIM_ECHO_BINARY
#error "SHIM_ECHO_BINARY must name the dynamic echo binary"
#endif
#ifndef SHIM_BPF_BINARY
#error "SHIM_BPF_BINARY must name the shim-bpf binary"
#endif

namespace {

using shim::sandbox::HostLibrarySearchPath;
using shim::sandbox::LibrarySearchPath;
using shim::sandbox::ReadElfInfo;
using shim::sandbox::ResolveElfDependencies;

void BM_ReadElfInfo(benchmark::State& state, const char* binary) {
  const std::string path = binary;
  size_t needed = 0;
  for (auto _ : state) {
    auto info = ReadElfInfo(path);
    if (!info.ok()) {
      state.SkipWithError(std::string(info.status().message()).c_str());
      break;
    }
    needed = info->needed.size();
    benchmark::DoNotOptimize(info);
  }
  state.counters["needed"] = static_cast<double>(needed);
}
BENCHMARK_CAPTURE(BM_ReadElfInfo, echo, SHIM_ECHO_BINARY);
BENCHMARK_CAPTURE(BM_ReadElfInfo, python3, "/usr/bin/python3");
BENCHMARK_CAPTURE(BM_ReadElfInfo, shim_bpf, SHIM_BPF_BINARY);

// /etc/ld.so.conf and its includes, read and globbed on every call (void.cc calls it per plan).
void BM_HostLibrarySearchPath(benchmark::State& state) {
  size_t dirs = 0;
  for (auto _ : state) {
    LibrarySearchPath search = HostLibrarySearchPath();
    dirs = search.conf_dirs.size() + search.default_dirs.size();
    benchmark::DoNotOptimize(search);
  }
  state.counters["dirs"] = static_cast<double>(dirs);
}
BENCHMARK(BM_HostLibrarySearchPath);

// The search path computed once, then the whole transitive resolution: the part that grows with
// the number of libraries.
void BM_ResolveElfDependencies(benchmark::State& state, const char* binary) {
  const std::string path = binary;
  const LibrarySearchPath search = HostLibrarySearchPath();
  size_t binds = 0;
  for (auto _ : state) {
    auto deps = ResolveElfDependencies(path, "/entrypoint", search);
    if (!deps.ok()) {
      state.SkipWithError(std::string(deps.status().message()).c_str());
      break;
    }
    binds = deps->size();
    benchmark::DoNotOptimize(deps);
  }
  state.counters["binds"] = static_cast<double>(binds);
}
BENCHMARK_CAPTURE(BM_ResolveElfDependencies, echo, SHIM_ECHO_BINARY);
BENCHMARK_CAPTURE(BM_ResolveElfDependencies, python3, "/usr/bin/python3");
BENCHMARK_CAPTURE(BM_ResolveElfDependencies, shim_bpf, SHIM_BPF_BINARY);

}  // namespace
