// The per-request cost of the trigger path without any process: one message or fd batch through
// a channel, and sealing a message into a memfd.
#include <benchmark/benchmark.h>
#include <fcntl.h>

#include <string>

#include "shim/app.h"
#include "trigger/channel.h"

namespace {

void BM_MessageRoundTrip(benchmark::State& state) {
  auto ch = shim::trigger::CreateChannel();
  std::string message(static_cast<size_t>(state.range(0)), 'm');
  for (auto _ : state) {
    shim_send_message(ch->tx.get(), message.data(), message.size());
    auto got = shim::trigger::ReceiveMessage(ch->rx.get());
    benchmark::DoNotOptimize(got);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MessageRoundTrip)->Arg(64)->Arg(4096)->Arg(shim::trigger::kMaxMessageBytes);

void BM_FdBatchRoundTrip(benchmark::State& state) {
  auto ch = shim::trigger::CreateChannel();
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  for (auto _ : state) {
    shim_send_fds(ch->tx.get(), &null_fd, 1);
    auto got = shim::trigger::ReceiveFdBatch(ch->rx.get());
    benchmark::DoNotOptimize(got);
  }
  close(null_fd);
}
BENCHMARK(BM_FdBatchRoundTrip);

void BM_SealedMemfd(benchmark::State& state) {
  std::string message(static_cast<size_t>(state.range(0)), 'b');
  for (auto _ : state) {
    auto fd = shim::trigger::SealedMemfd(message);
    benchmark::DoNotOptimize(fd);
  }
}
BENCHMARK(BM_SealedMemfd)->Arg(64)->Arg(shim::trigger::kMaxMessageBytes);

}  // namespace
