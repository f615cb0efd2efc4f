#include "app/ui.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <set>

#include "model/tree_view.h"
#include "tui/runtime.h"
#include "tui/utf8.h"

namespace shim::forktop {
namespace {

using tui::Column;
using tui::Element;
using tui::Key;
using tui::KeyCode;
using tui::Row;
using tui::Span;
using tui::Style;
using tui::Text;

constexpr int kWideLayoutColumns = 120;  // from here on the details pane sits beside the tree
constexpr int kDetailsWidth = 52;
constexpr int kDetailsHeight = 6;

const Style kHeader = Style{}.Reverse();
const Style kDimmed = Style{}.Dim();
const Style kAccent = Style{}.Fg(tui::kCyan);

std::string Fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string PadLeft(const std::string& s, size_t n) {
  return s.size() >= n ? s : std::string(n - s.size(), ' ') + s;
}

// The rows of a render, for the next one: reused while neither the tree nor the view changed.
struct RowsCache {
  uint64_t version = 0;
  ViewOptions view;
  std::shared_ptr<const std::vector<ViewRow>> rows;
};

// Everything the tree and the details pane need for one render.
struct TreeProps {
  Store* store;
  std::shared_ptr<const std::vector<ViewRow>> rows;
  int selected_index;
  bool ascii;
  bool filtering;
};

Element TreeRow(const Store& store, const ViewRow& row, bool selected, bool ascii, bool filtering) {
  const ProcessTree& tree = store.tree();
  const ProcNode* n = tree.Find(row.tgid);
  if (n == nullptr) return Text("");
  Style base = n->exited ? kDimmed : Style{};
  if (selected) base = base.Reverse();
  std::vector<Span> spans;
  const std::string threads = n->threads.empty() ? "" : std::to_string(n->threads.size() + 1);
  spans.push_back({PadLeft(std::to_string(n->tgid), 7) + " " + PadLeft(threads, 3) + " " +
                       PadLeft(FormatDuration(n->Lifetime(tree.now_ns())), 7) + "  ",
                   base});
  spans.push_back({row.prefix, base.Fg(tui::kBrightBlack)});
  if (row.has_children) {
    const char* marker =
        row.collapsed ? (ascii ? "+ " : "\xE2\x96\xB8 ") : (ascii ? "- " : "\xE2\x96\xBE ");
    spans.push_back({marker, base});
  }
  Style name = base.Bold();
  if (filtering && row.match) name = name.Fg(tui::kYellow);
  spans.push_back({n->Name(), name});
  if (!n->entrypoint.empty()) spans.push_back({" [" + n->entrypoint + "]", base.Fg(tui::kCyan)});
  if (n->exited) {
    const bool failed = n->exit_signal != 0 || n->exit_code != 0;
    spans.push_back({" <" + FormatExit(*n) + ", lived " + FormatDuration(n->Lifetime(0)) + ">",
                     failed ? base.Fg(tui::kRed) : base});
  }
  if (row.collapsed) spans.push_back({" (+" + std::to_string(n->descendants()) + ")", base});
  const std::string cmd = CommandLine(*n);
  if (cmd != n->Name()) spans.push_back({"  " + cmd, base.Dim()});
  Element e = Text(std::move(spans));
  if (selected) e.style = Style{}.Reverse();
  return e;
}

Element TreePane(const TreeProps& p) {
  auto scroll = tui::use_ref<int>(0);
  const int count = static_cast<int>(p.rows->size());
  if (count == 0) {
    return Column({Text(p.filtering ? "  no process matches the filter" : "  no processes yet",
                        kDimmed)})
        .Focusable("tree");
  }
  return tui::List(count, p.selected_index, scroll,
                   [store = p.store, rows = p.rows, sel = p.selected_index, ascii = p.ascii,
                    filtering = p.filtering](int i) {
                     return TreeRow(*store, (*rows)[i], i == sel, ascii, filtering);
                   })
      .Focusable("tree");
}

struct DetailsProps {
  Store* store;
  int32_t tgid;
};

Element DetailsPane(const DetailsProps& p) {
  const ProcessTree& tree = p.store->tree();
  const ProcNode* n = tree.Find(p.tgid);
  std::vector<Element> lines;
  if (n == nullptr) {
    lines.push_back(Text(" no selection", kDimmed));
    return Column(std::move(lines));
  }
  auto line = [&](const std::string& label, const std::string& value, Style style = {}) {
    lines.push_back(Text({Span{" " + label, kAccent}, Span{value, style}}));
  };
  std::string who = std::to_string(n->tgid) + "  " + n->Name();
  if (!n->entrypoint.empty()) who += "  [" + n->entrypoint + "]";
  line("pid   ", who, Style{}.Bold());
  std::string parent = std::to_string(n->ppid);
  if (n->ppid != n->original_ppid)
    parent += " (forked by " + std::to_string(n->original_ppid) + ")";
  line("ppid  ", parent + "   children " + std::to_string(n->children().size()) + "  (all " +
                     std::to_string(n->descendants()) + ")   threads " +
                     std::to_string(n->threads.size() + (n->exited ? 0 : 1)));
  line("argv  ", CommandLine(*n));
  if (!n->filename.empty()) line("exe   ", n->filename);
  std::string cgroup = p.store->cgroup_path ? p.store->cgroup_path(n->cgroup_id) : "";
  if (cgroup.empty()) cgroup = n->cgroup_id ? "id " + std::to_string(n->cgroup_id) : "-";
  line("cgroup", " " + cgroup);
  if (n->exited) {
    line("status", " exited: " + FormatExit(*n) + ", lived " + FormatDuration(n->Lifetime(0)),
         n->exit_code || n->exit_signal ? Style{}.Fg(tui::kRed) : Style{});
  } else {
    line("uptime", " " + FormatDuration(n->Lifetime(tree.now_ns())) +
                       (n->from_snapshot ? " (since tracing started)" : ""));
  }
  return Column(std::move(lines));
}

// The search prompt; it holds the focus while searching.
struct SearchProps {
  std::string draft;
  tui::StateSetter<std::string> set_draft;
  tui::StateSetter<std::string> set_filter;
  tui::StateSetter<bool> set_searching;
};

Element SearchBar(const SearchProps& p) {
  return Text({Span{"/", Style{}.Bold()}, Span{p.draft + "_", {}},
               Span{"   Enter keep  Esc clear", kDimmed}})
      .Focusable("search")
      .OnKey([p](const Key& k) {
        auto finish = [&](bool keep) {
          if (!keep) {
            p.set_draft(std::string());
            p.set_filter(std::string());
          }
          p.set_searching(false);
          tui::Runtime::Current()->Focus("tree");
        };
        if (k.code == KeyCode::kEnter) {
          finish(true);
        } else if (k.code == KeyCode::kEscape) {
          finish(false);
        } else if (k.code == KeyCode::kBackspace) {
          std::string d = p.draft;
          while (!d.empty() && (static_cast<unsigned char>(d.back()) & 0xC0) == 0x80) d.pop_back();
          if (!d.empty()) d.pop_back();
          p.set_draft(d);
          p.set_filter(d);
        } else if (k.code == KeyCode::kChar && !k.ctrl && !k.alt && k.ch >= 0x20) {
          std::string d = p.draft;
          tui::AppendUtf8(d, k.ch);
          p.set_draft(d);
          p.set_filter(d);  // the tree filters as you type
        } else {
          return k.code != KeyCode::kChar || !k.ctrl;  // swallow other keys, let Ctrl-C through
        }
        return true;
      });
}

// A timerfd ticking every second: uptimes and tombstones move even when no events arrive.
tui::Cleanup StartTicker(tui::FdWatcher* watcher, const std::function<void()>& tick) {
  const int fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (fd < 0) return nullptr;
  itimerspec spec = {};
  spec.it_value.tv_sec = 1;
  spec.it_interval.tv_sec = 1;
  ::timerfd_settime(fd, 0, &spec, nullptr);
  watcher->Watch(fd, [fd, tick] {
    uint64_t n;
    (void)!::read(fd, &n, sizeof n);
    tick();
  });
  return [watcher, fd] {
    watcher->Unwatch(fd);
    ::close(fd);
  };
}

}  // namespace

std::vector<std::string> HelpLines() {
  return {
      "forktop keys",
      "",
      "  Up/k Down/j       move the selection",
      "  PgUp PgDn         move by a page",
      "  Home/g End/G      first / last process",
      "  Left/h            collapse, or go to the parent",
      "  Right/l           expand, or go to the first child",
      "  Enter Space       collapse / expand the subtree",
      "  s                 sort siblings: pid, name, age, children",
      "  /                 search (filters as you type; Enter keeps, Esc clears)",
      "  Esc               clear the filter",
      "  p                 pause (events are held, not lost)",
      "  ?                 this help (any key closes it)",
      "  q Ctrl-C          quit",
      "",
      "Exited processes stay dimmed for a while with their exit status and lifetime.",
  };
}

Element ForktopApp(const AppProps& props) {
  Store* store = props.store;
  // Plain variables rather than structured bindings: lambdas below capture them (clang 14, which
  // clang-tidy uses, cannot capture structured bindings).
  auto tick_state = tui::use_state<uint64_t>(0);
  auto selected_state = tui::use_state<int32_t>(-1);
  auto collapsed_state = tui::use_state(std::set<int32_t>{});
  auto sort_state = tui::use_state(SortKey::kPid);
  auto filter_state = tui::use_state(std::string());
  auto draft_state = tui::use_state(std::string());
  auto searching_state = tui::use_state(false);
  auto help_state = tui::use_state(false);
  auto last_index = tui::use_ref<int>(0);
  const auto set_tick = tick_state.second;
  const int32_t selected = selected_state.first;
  const auto set_selected = selected_state.second;
  const std::set<int32_t>& collapsed = collapsed_state.first;
  const auto set_collapsed = collapsed_state.second;
  const SortKey sort = sort_state.first;
  const auto set_sort = sort_state.second;
  const std::string filter = filter_state.first;
  const auto set_filter = filter_state.second;
  const std::string draft = draft_state.first;
  const auto set_draft = draft_state.second;
  const bool searching = searching_state.first;
  const auto set_searching = searching_state.second;
  const bool help = help_state.first;
  const auto set_help = help_state.second;

  // Subscribe to the event source and a one-second clock while mounted.
  tui::use_effect(
      [store, watcher = props.watcher, set_tick]() -> tui::Cleanup {
        if (watcher == nullptr || store->source() == nullptr) return nullptr;
        auto bump = [store, set_tick] { set_tick(store->version()); };
        const int fd = store->source()->fd();
        watcher->Watch(fd, [store, bump] {
          (void)store->Pump();
          bump();
        });
        tui::Cleanup stop_ticker = StartTicker(watcher, [store, set_tick] {
          store->Advance();
          set_tick.Update([](uint64_t v) { return v + 1; });  // uptimes moved: re-render
        });
        return [watcher, fd, stop_ticker] {
          watcher->Unwatch(fd);
          if (stop_ticker) stop_ticker();
        };
      },
      tui::Deps{});

  ViewOptions view;
  view.sort = sort;
  view.filter = filter;
  view.collapsed = collapsed;
  view.ascii = props.ascii;
  // The once-a-second clock re-renders for the uptimes alone: the tree's rows are the same then,
  // and flattening 10,000 processes again would be most of that frame.
  auto rows_cache = tui::use_ref<RowsCache>({});
  if (rows_cache->rows == nullptr || rows_cache->version != store->tree().version() ||
      rows_cache->view != view) {
    *rows_cache = {store->tree().version(), view,
                   std::make_shared<const std::vector<ViewRow>>(Flatten(store->tree(), view))};
  }
  const std::shared_ptr<const std::vector<ViewRow>> rows = rows_cache->rows;

  // The selection follows its process; if it vanished, the row at the same place is selected.
  int index = -1;
  for (size_t i = 0; i < rows->size(); ++i) {
    if ((*rows)[i].tgid == selected) index = static_cast<int>(i);
  }
  if (index < 0 && !rows->empty()) {
    index = std::clamp(*last_index, 0, static_cast<int>(rows->size()) - 1);
  }
  *last_index = std::max(index, 0);
  const int32_t current = index >= 0 ? (*rows)[index].tgid : -1;

  tui::Runtime* rt = tui::Runtime::Current();
  const int width = rt->width();
  const int height = rt->height();
  const bool wide = width >= kWideLayoutColumns;
  const int page = std::max(1, height - 4 - (wide ? 0 : kDetailsHeight));

  auto select_index = [rows, set_selected](int i) {
    if (rows->empty()) return;
    i = std::clamp(i, 0, static_cast<int>(rows->size()) - 1);
    set_selected((*rows)[i].tgid);
  };
  auto tree_keys = [=](const Key& k) {
    const ProcessTree& tree = store->tree();
    auto toggle = [&](int32_t tgid, bool collapse) {
      set_collapsed.Update([tgid, collapse](const std::set<int32_t>& c) {
        std::set<int32_t> next = c;
        if (collapse)
          next.insert(tgid);
        else
          next.erase(tgid);
        return next;
      });
    };
    const ViewRow* row = index >= 0 ? &(*rows)[index] : nullptr;
    if (k.code == KeyCode::kDown || k.Is('j')) {
      select_index(index + 1);
    } else if (k.code == KeyCode::kUp || k.Is('k')) {
      select_index(index - 1);
    } else if (k.code == KeyCode::kPageDown || k.IsCtrl('f')) {
      select_index(index + page);
    } else if (k.code == KeyCode::kPageUp || k.IsCtrl('b')) {
      select_index(index - page);
    } else if (k.code == KeyCode::kHome || k.Is('g')) {
      select_index(0);
    } else if (k.code == KeyCode::kEnd || k.Is('G')) {
      select_index(static_cast<int>(rows->size()) - 1);
    } else if (k.code == KeyCode::kLeft || k.Is('h')) {
      if (row == nullptr) return true;
      if (row->has_children && !row->collapsed) {
        toggle(row->tgid, true);
      } else if (const ProcNode* n = tree.Find(row->tgid); n && tree.Find(n->ppid)) {
        set_selected(n->ppid);
      }
    } else if (k.code == KeyCode::kRight || k.Is('l')) {
      if (row == nullptr || !row->has_children) return true;
      if (row->collapsed) {
        toggle(row->tgid, false);
      } else {
        select_index(index + 1);
      }
    } else if (k.code == KeyCode::kEnter || k.Is(' ')) {
      if (row != nullptr && row->has_children) toggle(row->tgid, !row->collapsed);
    } else if (k.Is('s')) {
      set_sort(NextSortKey(sort));
    } else if (k.code == KeyCode::kEscape) {
      set_filter(std::string());
      set_draft(std::string());
    } else {
      return false;
    }
    return true;
  };
  auto global_keys = [=](const Key& k) {
    tui::Runtime* runtime = tui::Runtime::Current();
    if (help) {
      if (k.Is('q')) runtime->RequestQuit();
      set_help(false);
      return true;
    }
    if (k.Is('q')) {
      runtime->RequestQuit();
    } else if (k.Is('?') || k.code == KeyCode::kF1) {
      set_help(true);
    } else if (k.Is('p')) {
      store->SetPaused(!store->paused());
      set_tick(store->version());
    } else if (k.Is('/')) {
      set_draft(filter);
      set_searching(true);
      runtime->Focus("search");
    } else {
      return false;
    }
    return true;
  };

  // Header.
  const ProcessTree& tree = store->tree();
  const bool compact = width < kWideLayoutColumns;
  std::vector<Span> head = {
      {" forktop ", kHeader.Bold()},
      {" " + store->scope + "  ", kHeader},
      {"live " + std::to_string(tree.live_count()) + "  exited " +
           std::to_string(tree.exited_count()) +
           (compact ? "" : "  threads " + std::to_string(tree.thread_count())) + "  spawn " +
           Fixed(tree.SpawnRate()) + "/s  ",
       kHeader},
      {"lost " + std::to_string(tree.lost()), tree.lost() ? kHeader.Fg(tui::kRed).Bold() : kHeader},
      {"  sort " + std::string(SortKeyName(sort)), kHeader},
  };
  if (compact) {
    // 80 columns: the counters matter more than the scope's full description and the sort.
    std::string scope = store->scope;
    const size_t slash = scope.rfind('/');
    if (slash != std::string::npos) scope = scope.substr(slash + 1);
    head[1].text = " " + tui::Truncate(scope, 24) + "  ";
    head.pop_back();
  }
  if (!filter.empty()) head.push_back({"  filter \"" + filter + "\"", kHeader.Fg(tui::kYellow)});
  // The state goes first so an 80-column header never cuts it off.
  if (store->paused()) {
    head.insert(head.begin() + 1, Span{" PAUSED (" + std::to_string(store->held_back()) + " held) ",
                                       kHeader.Bold().Fg(tui::kYellow)});
  } else if (store->source() != nullptr && store->source()->finished()) {
    head.insert(head.begin() + 1, Span{" replay done ", kHeader});
  }
  Element header = Text(std::move(head)).Background(kHeader);
  Element columns = Text("    PID THR     AGE  COMMAND", Style{}.Bold());

  Element body;
  if (help) {
    std::vector<Element> lines;
    for (const std::string& l : HelpLines()) lines.push_back(Text("  " + l));
    body = Column(std::move(lines)).Flex();
  } else {
    Element tree_pane = tui::Component(
        TreePane, TreeProps{store, rows, index, props.ascii, !filter.empty()}, "tree");
    Element details = tui::Component(DetailsPane, DetailsProps{store, current}, "details");
    if (wide) {
      body = Row({std::move(tree_pane).Flex(),
                  tui::List(height, -1, nullptr, [](int) { return Text("\xE2\x94\x82", kDimmed); })
                      .Fixed(1),
                  std::move(details).Fixed(kDetailsWidth)})
                 .Flex();
    } else {
      body = Column({std::move(tree_pane).Flex(),
                     Text(std::string(static_cast<size_t>(width), '-'), kDimmed),
                     std::move(details).Fixed(kDetailsHeight)})
                 .Flex();
    }
    body.on_key = tree_keys;
  }

  Element footer;
  if (searching) {
    footer = tui::Component(SearchBar, SearchProps{draft, set_draft, set_filter, set_searching},
                            "search");
  } else {
    std::vector<Span> hints;
    if (!filter.empty()) {
      hints.push_back({" filter \"" + filter + "\" (Esc clears) ", Style{}.Fg(tui::kYellow)});
    }
    hints.push_back({" q quit  ? help  / search  p pause  s sort(" +
                         std::string(SortKeyName(sort)) + ")  Enter fold  h/l",
                     kDimmed});
    footer = Text(std::move(hints));
  }
  return Column({std::move(header), std::move(columns), std::move(body), std::move(footer)})
      .OnKey(global_keys);
}

}  // namespace shim::forktop
