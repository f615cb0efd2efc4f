// forktop's screen, as components on the hooks TUI library:
//   header   forktop | scope | live/exited/threads | spawn rate | lost | PAUSED
//   columns  PID THR AGE COMMAND
//   tree     the process tree (a scrolling list), tombstones dimmed with exit status and lifetime
//   details  argv, cgroup, uptime, children, exit status of the selected process (beside the
//            tree when the terminal is wide, below it when narrow)
//   footer   key hints, or the search prompt
// Keys: arrows/j k, h l (collapse/expand or parent/child), Enter/Space toggle, g G Home End,
// PgUp PgDn, s sort, / search (Enter keeps the filter, Esc clears it), p pause, ? help, q quit.
#pragma once

#include "app/store.h"
#include "tui/element.h"
#include "tui/loop.h"

namespace shim::forktop {

struct AppProps {
  Store* store = nullptr;
  tui::FdWatcher* watcher = nullptr;  // null in tests: they pump the store and re-render
  bool ascii = false;                 // ASCII tree lines (non-UTF-8 terminals)
};

tui::Element ForktopApp(const AppProps& props);

// The help screen's lines (also used by --help-keys).
std::vector<std::string> HelpLines();

}  // namespace shim::forktop
