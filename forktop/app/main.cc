// forktop: a live process tree. Interactive by default; --once and --json for scripts; --record
// and --replay for demos and tests without privilege.
#include <poll.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>

#include "app/event_source.h"
#include "app/live.h"
#include "app/stats.h"
#include "app/store.h"
#include "app/ui.h"
#include "common/terminal_text.h"
#include "model/tree_view.h"
#include "tui/loop.h"
#include "tui/runtime.h"
#include "tui/terminal.h"

namespace shim::forktop {
namespace {

struct Options {
  std::optional<int> pid;
  std::optional<std::string> cgroup;
  bool shim = false;
  bool json = false;
  bool once = false;
  std::string record;
  std::string replay;
  double speed = 1.0;
  bool ascii = false;
  double tombstone_seconds = 10.0;
  std::string stats;
};

bool LocaleIsUtf8() {
  for (const char* var : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* v = std::getenv(var);
    if (v == nullptr || *v == '\0') continue;
    const std::string s(v);
    return s.find("UTF-8") != std::string::npos || s.find("utf8") != std::string::npos ||
           s.find("utf-8") != std::string::npos || s.find("UTF8") != std::string::npos;
  }
  return false;
}

int Fail(const absl::Status& status, int code) {
  std::fprintf(stderr, "forktop: %s\n", std::string(status.message()).c_str());
  return code;
}

// Drains `source` until it is finished (replay) or forever (live), handing events to `sink`.
absl::Status Drain(EventSource& source, const EventSink& sink) {
  while (!source.finished()) {
    pollfd p = {source.fd(), POLLIN, 0};
    if (::poll(&p, 1, 1000) < 0 && errno != EINTR) return absl::InternalError("poll failed");
    if (absl::Status s = source.Consume(sink); !s.ok()) return s;
  }
  return absl::OkStatus();
}

int Run(const Options& opt) {
  std::unique_ptr<Recorder> recorder;
  if (!opt.record.empty()) {
    auto r = Recorder::Create(opt.record);
    if (!r.ok()) return Fail(r.status(), 2);
    recorder = *std::move(r);
  }

  std::unique_ptr<EventSource> source;
  std::string scope = "all processes";
  std::function<std::string(uint64_t)> cgroup_path;
  if (!opt.replay.empty()) {
    auto r = ReplaySource::Open(opt.replay, opt.once ? 0.0 : opt.speed);
    if (!r.ok()) return Fail(r.status(), 2);
    source = *std::move(r);
    scope = source->Describe();
  } else {
    LiveScope live_scope;
    live_scope.pid = opt.pid;
    live_scope.cgroup = opt.cgroup;
    live_scope.shim = opt.shim;
    auto live = OpenLiveSource(live_scope, opt.once);
    if (!live.ok()) return Fail(live.status(), 2);
    source = std::move(live->source);
    scope = live->description;
    cgroup_path = live->cgroup_path;
  }

  TreeOptions tree_options;
  tree_options.tombstone_ns = static_cast<uint64_t>(opt.tombstone_seconds * 1e9);
  Store store(source.get(), tree_options, recorder.get());
  store.scope = scope;
  store.cgroup_path = cgroup_path;

  if (opt.json) {
    absl::Status s = Drain(*source, [&](const trace::ProcessEvent& e) {
      if (recorder) recorder->Write(e);
      std::printf("%s\n", trace::ToJsonLine(e).c_str());
      std::fflush(stdout);
    });
    return s.ok() ? 0 : Fail(s, 1);
  }
  if (opt.once) {
    if (absl::Status s = Drain(*source, [&](const trace::ProcessEvent& e) { store.Apply(e); });
        !s.ok()) {
      return Fail(s, 1);
    }
    store.Advance();
    ViewOptions view;
    view.ascii = opt.ascii || !LocaleIsUtf8();
    // Process names and argv are the traced processes' own bytes: no control character of
    // theirs reaches the terminal (the interactive renderer replaces them the same way).
    for (const std::string& line : TreeText(store.tree(), view)) {
      std::printf("%s\n", ForTerminal(line).c_str());
    }
    return 0;
  }

  std::unique_ptr<StatsFile> stats_file;
  if (!opt.stats.empty()) {
    auto f = StatsFile::Create(opt.stats);
    if (!f.ok()) return Fail(f.status(), 2);
    stats_file = *std::move(f);
  }
  auto terminal = tui::TtyTerminal::Open(STDIN_FILENO, STDOUT_FILENO);
  if (!terminal.ok()) return Fail(terminal.status(), 2);
  auto loop = tui::EventLoop::Create();
  if (!loop.ok()) return Fail(loop.status(), 1);
  if (stats_file) (*loop)->KeepFrameSamples(kMaxFrameSamples);
  const uint64_t ui_start_ns = MonotonicNowNs();
  absl::Status status;
  {
    // Destroyed before the loop: its effect cleanups unwatch fds from the loop.
    tui::Runtime runtime(
        tui::Component(ForktopApp, AppProps{&store, loop->get(), opt.ascii || !LocaleIsUtf8()}));
    status = (*loop)->Run(runtime, **terminal);
  }
  RunStats stats;
  stats.frames = (*loop)->stats();
  stats.process_cpu_ns = ProcessCpuNs();
  stats.wall_ns = static_cast<int64_t>(MonotonicNowNs() - ui_start_ns);
  loop->reset();
  terminal->reset();  // restores the terminal before anything is printed
  if (!status.ok()) return Fail(status, 1);
  if (stats_file) {
    if (absl::Status s = stats_file->Write(stats); !s.ok()) return Fail(s, 1);
  }
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"forktop: a live, lossless process tree", "forktop"};
  app.set_version_flag("--version", "forktop " FORKTOP_VERSION);  // shim-bpf's version
  Options opt;
  auto* pid = app.add_option("--pid", opt.pid, "Follow the subtree of this process");
  auto* cgroup = app.add_option("--cgroup", opt.cgroup, "Follow the processes of a cgroup v2 path");
  auto* shim = app.add_flag("--shim", opt.shim,
                            "Follow a running shim-bpf (its cgroup subtree); names entrypoints");
  pid->excludes(cgroup)->excludes(shim);
  cgroup->excludes(shim);
  auto* json = app.add_flag("--json", opt.json, "Print events as JSON Lines instead of the UI");
  auto* once = app.add_flag("--once", opt.once, "Print the process tree once as text and exit");
  json->excludes(once);
  app.add_option("--record", opt.record, "Also write every event to FILE (JSON Lines)");
  auto* replay = app.add_option("--replay", opt.replay, "Replay events from FILE (no privilege)");
  app.add_option("--speed", opt.speed, "Replay speed factor (0: everything at once)")
      ->needs(replay)
      ->check(CLI::NonNegativeNumber);
  replay->excludes(pid)->excludes(cgroup)->excludes(shim);
  auto* stats = app.add_option(
      "--stats", opt.stats,
      "When the UI exits, write to FILE (JSON) the frames drawn and the CPU time of each");
  stats->excludes(json)->excludes(once);
  app.add_flag("--ascii", opt.ascii, "Draw the tree with ASCII characters");
  app.add_option("--tombstone", opt.tombstone_seconds,
                 "Seconds exited processes stay visible (default 10)")
      ->check(CLI::NonNegativeNumber);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return Run(opt);
}

}  // namespace
}  // namespace shim::forktop

int main(int argc, char** argv) {
  try {
    return shim::forktop::Main(argc, argv);
  } catch (const std::exception& e) {
    // The terminal (if it was taken) has been restored by the unwinding destructors.
    std::fprintf(stderr, "forktop: %s\n", e.what());
  }
  return 1;
}
