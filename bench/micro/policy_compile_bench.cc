// CompilePolicy cost: what `shim-bpf run` pays once per entrypoint at start, for 1 to 10,000
// outbound rules. Two shapes: disjoint /32 hosts (no push-down work) and hosts nested under a
// few wide prefixes (every host inherits its containers' ports).
#include <benchmark/benchmark.h>

#include "net/policy.h"

namespace {

shim::spec::NetworkPolicy Hosts(int n, bool nested) {
  shim::spec::NetworkPolicy p;
  for (int i = 0; i < n; ++i) {
    shim::spec::OutboundRule r;
    r.cidr.address = {10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                      static_cast<uint8_t>(i)};
    r.cidr.prefix_len = 32;
    r.ports = {{static_cast<uint16_t>(1000 + i % 100), static_cast<uint16_t>(1000 + i % 100)}};
    r.protocol = shim::spec::Protocol::kTcp;
    p.outbound.push_back(r);
  }
  if (nested) {
    for (int len : {8, 12, 16}) {
      shim::spec::OutboundRule r;
      r.cidr.address = {10, 0, 0, 0};
      r.cidr.prefix_len = static_cast<uint8_t>(len);
      r.ports = {{static_cast<uint16_t>(len), static_cast<uint16_t>(len)}};
      p.outbound.push_back(r);
    }
  }
  return p;
}

void BM_CompilePolicy(benchmark::State& state) {
  const auto policy = Hosts(static_cast<int>(state.range(0)), state.range(1) != 0);
  for (auto _ : state) {
    auto compiled = shim::net::CompilePolicy(policy);
    benchmark::DoNotOptimize(compiled);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_CompilePolicy)
    ->ArgNames({"rules", "nested"})
    ->Args({1, 0})
    ->Args({100, 0})
    ->Args({10000, 0})
    ->Args({10000, 1})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
