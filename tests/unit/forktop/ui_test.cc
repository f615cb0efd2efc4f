// forktop's UI in the in-memory terminal: the tree at 80x24 and 250x60, tombstones, details,
// and the keys (move, collapse/expand, search, sort, pause, help, quit).
#include "app/ui.h"

#include <gtest/gtest.h>

#include "app/store.h"
#include "events.h"
#include "tui/testing.h"
#include "tui/utf8.h"

namespace shim::forktop {
namespace {

using namespace testing;  // NOLINT: the scripted event builders
using tui::Key;
using tui::KeyCode;
using tui::MemoryTerminal;

void Populate(Store& store) {
  store.Apply(Snapshot(0, 1, 0, "init", {"/sbin/init"}));
  store.Apply(Snapshot(1 * kSec, 100, 1, "bash", {"bash"}));
  store.Apply(Fork(10 * kSec, 200, 100, "bash"));
  store.Apply(Exec(10 * kSec + 1, 200, "make", "/usr/bin/make", {"make", "-j2"}));
  store.Apply(Fork(11 * kSec, 300, 200, "make"));
  store.Apply(Exec(11 * kSec + 1, 300, "cc", "/usr/bin/cc", {"cc", "parser.c"}));
  store.Apply(Fork(11 * kSec + 5, 301, 200, "make"));
  store.Apply(Exec(11 * kSec + 6, 301, "ld", "/usr/bin/ld", {"ld", "-o", "app"}));
  store.Apply(Exit(12 * kSec, 300, 1));
  store.Apply(Thread(12 * kSec, 302, 301));
  store.Apply(Lost(12 * kSec, 4));
}

struct Fixture {
  explicit Fixture(int w, int h)
      : term(tui::Component(ForktopApp, AppProps{&store, nullptr, true}), w, h) {
    Populate(store);
    term.Tick();
  }
  // The row showing `needle`, or -1.
  int RowOf(const std::string& needle) const { return term.screen().Find(needle).first; }
  Store store{nullptr};
  MemoryTerminal term;
};

TEST(ForktopUiTest, RendersTheTreeAt80x24) {
  Fixture f(80, 24);
  const auto lines = f.term.Lines();
  ASSERT_EQ(lines.size(), 24u);
  EXPECT_NE(lines[0].find("live 4"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("exited 1"), std::string::npos);
  EXPECT_NE(lines[0].find("lost 4"), std::string::npos);
  EXPECT_EQ(lines[1], "    PID THR     AGE  COMMAND");
  EXPECT_EQ(lines[2], "      1       12.0s  - init  /sbin/init");
  EXPECT_EQ(lines[3], "    100       11.0s  `- - bash");
  EXPECT_EQ(lines[4], "    200        2.0s     `- - make  make -j2");
  EXPECT_EQ(lines[5], "    300        1.0s        |- cc <exit 1, lived 1.0s>  cc parser.c");
  EXPECT_EQ(lines[6], "    301   2    1.0s        `- ld  ld -o app");
  // The tombstone is dimmed; live rows are not.
  EXPECT_TRUE(f.term.screen().StyleAt(30, 5).dim);
  EXPECT_FALSE(f.term.screen().StyleAt(30, 6).dim);
  // The first row is selected (reverse) and described in the details pane below the tree.
  EXPECT_TRUE(f.term.screen().StyleAt(5, 2).reverse);
  EXPECT_NE(f.RowOf(" pid   1  init"), -1);
  EXPECT_GT(f.RowOf(" pid   1  init"), 6);
  EXPECT_NE(lines[23].find("q quit"), std::string::npos);
  for (const auto& line : lines) EXPECT_LE(tui::DisplayWidth(line), 80);
}

TEST(ForktopUiTest, WideTerminalPutsDetailsBesideTheTree) {
  Fixture f(250, 60);
  const auto lines = f.term.Lines();
  ASSERT_EQ(lines.size(), 60u);
  EXPECT_NE(lines[0].find("threads 1"), std::string::npos) << lines[0];
  const auto [row, col] = f.term.screen().Find("pid   1  init");
  EXPECT_EQ(row, 2);    // on the first tree row's line...
  EXPECT_GT(col, 190);  // ...at the right
  EXPECT_NE(lines[2].find("- init  /sbin/init"), std::string::npos);
}

TEST(ForktopUiTest, MoveCollapseExpandAndDetails) {
  Fixture f(80, 24);
  f.term.Input("jj");  // to make
  EXPECT_NE(f.RowOf(" pid   200  make"), -1);
  EXPECT_TRUE(f.term.screen().StyleAt(5, 4).reverse);
  f.term.Input("h");  // collapse make's subtree
  EXPECT_EQ(f.RowOf("cc parser.c"), -1);
  EXPECT_NE(f.term.Lines()[4].find("+ make (+2)"), std::string::npos) << f.term.Lines()[4];
  f.term.Input("h");  // already collapsed: go to the parent
  EXPECT_NE(f.RowOf(" pid   100  bash"), -1);
  f.term.Input("j\x1b[C");  // back to make, Right expands
  EXPECT_NE(f.RowOf("cc parser.c"), -1);
  f.term.Input("G");
  EXPECT_NE(f.RowOf(" pid   301  ld"), -1);
  EXPECT_NE(f.RowOf("threads 2"), -1);
  f.term.Input("k");
  EXPECT_NE(f.RowOf("status exited: exit 1, lived 1.0s"), -1);
  f.term.Press(Key::Code(KeyCode::kHome));
  EXPECT_NE(f.RowOf(" pid   1  init"), -1);
  f.term.Press(Key::Code(KeyCode::kEnter));  // Enter collapses the whole tree under init
  EXPECT_EQ(f.RowOf("bash"), -1);
}

TEST(ForktopUiTest, SearchFiltersAsYouTypeAndEscClears) {
  Fixture f(80, 24);
  f.term.Input("/");
  EXPECT_EQ(f.term.runtime().focused(), "search");
  f.term.Input("ld");
  EXPECT_NE(f.term.Lines()[23].find("/ld_"), std::string::npos) << f.term.Lines()[23];
  EXPECT_EQ(f.RowOf("cc parser.c"), -1);       // filtered out
  EXPECT_NE(f.RowOf("`- ld  ld -o app"), -1);  // the match and its ancestors stay
  EXPECT_NE(f.RowOf("- init"), -1);
  f.term.Input("\r");  // Enter keeps the filter, focus goes back to the tree
  EXPECT_EQ(f.term.runtime().focused(), "tree");
  EXPECT_NE(f.term.Lines()[23].find("filter \"ld\""), std::string::npos);
  f.term.Input("j");  // tree keys work again: j moves, it is not typed
  EXPECT_NE(f.RowOf(" pid   100  bash"), -1);
  f.term.Input("\x1b");  // Esc clears the filter
  EXPECT_NE(f.RowOf("cc parser.c"), -1);
  // Backspace edits; Esc in the prompt cancels.
  f.term.Input("/xyz\x7f\x7f");
  EXPECT_NE(f.term.Lines()[23].find("/x_"), std::string::npos);
  EXPECT_NE(f.RowOf("no process matches"), -1);
  f.term.Press(Key::Code(KeyCode::kEscape));
  EXPECT_NE(f.RowOf("cc parser.c"), -1);
}

TEST(ForktopUiTest, PauseHoldsEventsBack) {
  Fixture f(80, 24);
  f.term.Input("p");
  EXPECT_TRUE(f.store.paused());
  EXPECT_NE(f.term.Lines()[0].find("PAUSED"), std::string::npos);
  f.store.Apply(Fork(13 * kSec, 400, 100, "bash"));
  f.store.Apply(Exec(13 * kSec + 1, 400, "vim", "/usr/bin/vim", {"vim", "notes"}));
  f.term.runtime().MarkDirty();
  f.term.Tick();
  EXPECT_EQ(f.RowOf("vim notes"), -1);  // held back
  EXPECT_NE(f.term.Lines()[0].find("2 held"), std::string::npos) << f.term.Lines()[0];
  f.term.Input("p");
  EXPECT_NE(f.RowOf("vim notes"), -1);  // applied on resume, none lost
  EXPECT_EQ(f.term.Lines()[0].find("PAUSED"), std::string::npos);
}

TEST(ForktopUiTest, SortHelpAndQuit) {
  Fixture f(80, 24);
  f.term.Input("s");  // pid -> name: under make, cc still before ld
  EXPECT_NE(f.term.Lines()[23].find("s sort(name)"), std::string::npos) << f.term.Lines()[23];
  f.term.Input("?");
  EXPECT_NE(f.RowOf("forktop keys"), -1);
  f.term.Input("x");  // any key closes help
  EXPECT_EQ(f.RowOf("forktop keys"), -1);
  EXPECT_FALSE(f.term.runtime().quit_requested());
  f.term.Input("q");
  EXPECT_TRUE(f.term.runtime().quit_requested());
}

TEST(ForktopUiTest, TombstonesExpireFromTheScreen) {
  Fixture f(80, 24);
  EXPECT_NE(f.RowOf("cc <exit 1"), -1);
  f.store.Apply(Fork(25 * kSec, 500, 100, "bash"));  // the clock moves past 10 s after the exit
  f.term.runtime().MarkDirty();
  f.term.Tick();
  EXPECT_EQ(f.RowOf("cc <exit 1"), -1);
}

}  // namespace
}  // namespace shim::forktop
