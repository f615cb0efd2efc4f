// The TUI's per-frame costs: a full 250x60 diff render (first frame or after a resize), a
// one-cell change (the common case: only changed cells are written), and a whole forktop frame
// (hooks, tree flattening, layout, diff) with 10,000 processes in the tree.
#include <benchmark/benchmark.h>

#include <string>

#include "app/store.h"
#include "app/ui.h"
#include "tui/renderer.h"
#include "tui/runtime.h"
#include "tui/screen.h"

namespace {

using shim::tui::DiffRenderer;
using shim::tui::Screen;
using shim::tui::Style;

Screen FullScreen(int w, int h) {
  Screen s(w, h);
  for (int y = 0; y < h; ++y) {
    std::string line = "  " + std::to_string(1000 + y) + "  \xE2\x94\x9C\xE2\x94\x80 process-" +
                       std::to_string(y) + " --flag value ";
    while (static_cast<int>(line.size()) < w) line += "argument ";
    s.Put(0, y, line, y % 3 ? Style{} : Style{}.Bold().Fg(shim::tui::kCyan));
  }
  return s;
}

void BM_FullRender250x60(benchmark::State& state) {
  const Screen frame = FullScreen(250, 60);
  DiffRenderer r;
  size_t bytes = 0;
  for (auto _ : state) {
    r.Invalidate();
    bytes = r.Render(frame).size();
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["cells"] = r.last_stats().cells_written;
}
BENCHMARK(BM_FullRender250x60);

void BM_OneCellChange250x60(benchmark::State& state) {
  Screen a = FullScreen(250, 60);
  Screen b = a;
  b.Put(120, 30, "#", Style{}.Reverse());
  DiffRenderer r;
  r.Render(a);
  bool flip = false;
  size_t bytes = 0;
  for (auto _ : state) {
    flip = !flip;
    bytes = r.Render(flip ? b : a).size();
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["cells"] = r.last_stats().cells_written;
}
BENCHMARK(BM_OneCellChange250x60);

void BM_ForktopFrame(benchmark::State& state) {
  const int processes = static_cast<int>(state.range(0));
  shim::forktop::Store store(nullptr);
  shim::trace::ProcessEvent e;
  e.kind = shim::trace::EventKind::kSnapshot;
  e.pid = e.tgid = 1;
  e.comm = "init";
  store.Apply(e);
  for (int i = 0; i < processes; ++i) {
    e.kind = shim::trace::EventKind::kFork;
    e.timestamp_ns = 1'000'000'000ull + static_cast<uint64_t>(i) * 1000;
    e.pid = e.tgid = 100 + i;
    e.parent_tgid = i < 50 ? 1 : 100 + (i % 50);  // 50 parents with ~200 children each
    e.comm = "worker-" + std::to_string(i % 17);
    store.Apply(e);
  }
  shim::tui::Runtime rt(shim::tui::Component(shim::forktop::ForktopApp,
                                             shim::forktop::AppProps{&store, nullptr, false}));
  DiffRenderer r;
  for (auto _ : state) {
    rt.MarkDirty();
    benchmark::DoNotOptimize(r.Render(rt.Frame(250, 60)).size());
  }
}
BENCHMARK(BM_ForktopFrame)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
