// Hook semantics: state kept across renders, batched updates, effects with deps and cleanups in
// order, unmount cleanups, identity by key, focus and key bubbling.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tui/runtime.h"
#include "tui/testing.h"

namespace shim::tui {
namespace {

std::vector<std::string>* g_log = nullptr;
int g_counter_renders = 0;
StateSetter<int>* g_set = nullptr;

Element Counter() {
  ++g_counter_renders;
  auto [count, set_count] = use_state(0);
  static StateSetter<int> keep = set_count;
  keep = set_count;
  g_set = &keep;
  return Text("count=" + std::to_string(count));
}

TEST(HooksTest, StatePersistsAcrossRenders) {
  g_counter_renders = 0;
  MemoryTerminal term(Component(Counter), 20, 1);
  term.Tick();
  EXPECT_EQ(term.Lines()[0], "count=0");
  (*g_set)(5);
  term.Tick();
  EXPECT_EQ(term.Lines()[0], "count=5");
  term.runtime().MarkDirty();
  term.Tick();  // a re-render for another reason keeps the state
  EXPECT_EQ(term.Lines()[0], "count=5");
  EXPECT_EQ(g_counter_renders, 3);
}

TEST(HooksTest, UpdatesAreBatchedIntoOneRender) {
  g_counter_renders = 0;
  MemoryTerminal term(Component(Counter), 20, 1);
  term.Tick();
  EXPECT_EQ(g_counter_renders, 1);
  for (int i = 0; i < 10; ++i) g_set->Update([](int v) { return v + 1; });
  EXPECT_TRUE(term.runtime().dirty());
  EXPECT_TRUE(term.Tick());
  EXPECT_FALSE(term.Tick());  // nothing left to do
  EXPECT_EQ(g_counter_renders, 2);
  EXPECT_EQ(term.Lines()[0], "count=10");
  (*g_set)(10);  // same value: no render
  EXPECT_FALSE(term.runtime().dirty());
}

struct EffectProps {
  std::string name;
  int dep;
};

Element Effectful(const EffectProps& p) {
  use_effect(
      [name = p.name, dep = p.dep]() -> Cleanup {
        g_log->push_back("run " + name + " " + std::to_string(dep));
        return [name, dep] { g_log->push_back("cleanup " + name + " " + std::to_string(dep)); };
      },
      Deps{int64_t{p.dep}});
  use_effect(
      [name = p.name]() -> Cleanup {
        g_log->push_back("once " + name);
        return nullptr;
      },
      Deps{});
  return Text(p.name);
}

struct ParentProps {
  int dep;
  bool show_b;
};

Element Parent(const ParentProps& p) {
  std::vector<Element> children;
  children.push_back(Component(Effectful, EffectProps{"a", p.dep}));
  if (p.show_b) children.push_back(Component(Effectful, EffectProps{"b", 0}));
  return Column(std::move(children));
}

TEST(HooksTest, EffectsRunWhenDepsChangeWithCleanupFirstAndOnUnmount) {
  std::vector<std::string> log;
  g_log = &log;
  auto props = std::make_shared<ParentProps>(ParentProps{1, true});
  {
    // The root re-reads the shared props so the test can change them between frames.
    struct RootProps {
      std::shared_ptr<ParentProps> p;
    };
    Element (*root)(const RootProps&) = [](const RootProps& r) { return Component(Parent, *r.p); };
    MemoryTerminal term(Component(root, RootProps{props}), 10, 3);
    term.Tick();
    EXPECT_EQ(log, (std::vector<std::string>{"run a 1", "once a", "run b 0", "once b"}));
    log.clear();

    term.runtime().MarkDirty();
    term.Tick();  // same deps: nothing runs
    EXPECT_TRUE(log.empty());

    props->dep = 2;
    term.runtime().MarkDirty();
    term.Tick();  // a's dep changed: its cleanup, then its effect; "once" stays
    EXPECT_EQ(log, (std::vector<std::string>{"cleanup a 1", "run a 2"}));
    log.clear();

    props->show_b = false;
    term.runtime().MarkDirty();
    term.Tick();  // b unmounted: its cleanup runs
    EXPECT_EQ(log, (std::vector<std::string>{"cleanup b 0"}));
    EXPECT_EQ(term.Lines()[1], "");
    log.clear();
  }
  // The runtime's destruction unmounts the rest.
  EXPECT_EQ(log, (std::vector<std::string>{"cleanup a 2"}));
  g_log = nullptr;
}

TEST(HooksTest, EffectWithoutDepsRunsAfterEveryRender) {
  std::vector<std::string> log;
  g_log = &log;
  Element (*comp)() = [] {
    use_effect(
        [] {
          g_log->push_back("run");
          return Cleanup([] { g_log->push_back("cleanup"); });
        },
        std::nullopt);
    return Text("x");
  };
  {
    MemoryTerminal term(Component(comp), 5, 1);
    term.Tick();
    term.runtime().MarkDirty();
    term.Tick();
  }
  EXPECT_EQ(log, (std::vector<std::string>{"run", "cleanup", "run", "cleanup"}));
  g_log = nullptr;
}

// A keyed item with its own state: the state follows the key when the items are reordered.
struct ItemProps {
  std::string name;
};
std::map<std::string, StateSetter<int>>* g_item_setters = nullptr;

Element Item(const ItemProps& p) {
  auto [clicks, set_clicks] = use_state(0);
  g_item_setters->insert_or_assign(p.name, set_clicks);
  return Text(p.name + ":" + std::to_string(clicks));
}

struct ListProps {
  std::shared_ptr<std::vector<std::string>> order;
};

Element Items(const ListProps& p) {
  std::vector<Element> rows;
  for (const std::string& name : *p.order) rows.push_back(Component(Item, ItemProps{name}, name));
  return Column(std::move(rows));
}

TEST(HooksTest, KeysKeepIdentityAcrossReorder) {
  std::map<std::string, StateSetter<int>> setters;
  g_item_setters = &setters;
  auto order = std::make_shared<std::vector<std::string>>(std::vector<std::string>{"x", "y"});
  MemoryTerminal term(Component(Items, ListProps{order}), 10, 2);
  term.Tick();
  setters.at("y")(7);
  term.Tick();
  EXPECT_EQ(term.Lines(), (std::vector<std::string>{"x:0", "y:7"}));
  *order = {"y", "x"};
  term.runtime().MarkDirty();
  term.Tick();
  EXPECT_EQ(term.Lines(), (std::vector<std::string>{"y:7", "x:0"}));
  // A removed item's setter becomes a no-op.
  StateSetter<int> old_x = setters.at("x");
  *order = {"y"};
  term.runtime().MarkDirty();
  term.Tick();
  old_x(3);
  EXPECT_FALSE(term.runtime().dirty());
  g_item_setters = nullptr;
}

// Focus: two focusable panes inside a root with a global handler.
std::vector<std::string>* g_keys = nullptr;

Element Pane(const ItemProps& p) {
  auto [presses, set_presses] = use_state(0);
  const bool focused = is_focused(p.name);
  return Text((focused ? "*" : " ") + p.name + std::to_string(presses),
              focused ? Style{}.Bold() : Style{})
      .Focusable(p.name)
      .OnKey([name = p.name, set_presses](const Key& k) {
        if (!k.Is('x')) return false;
        g_keys->push_back(name + " x");
        set_presses.Update([](int v) { return v + 1; });
        return true;
      });
}

Element Panes() {
  return Column({Component(Pane, ItemProps{"left"}), Component(Pane, ItemProps{"right"})})
      .OnKey([](const Key& k) {
        g_keys->push_back("root " + KeyName(k));
        if (k.Is('q')) Runtime::Current()->RequestQuit();
        return k.Is('q');
      });
}

TEST(HooksTest, KeysGoToTheFocusedComponentAndBubble) {
  std::vector<std::string> keys;
  g_keys = &keys;
  MemoryTerminal term(Component(Panes), 10, 2);
  term.Tick();
  EXPECT_TRUE(term.Tick());  // the first focusable element took the focus: one more frame
  EXPECT_EQ(term.runtime().focused(), "left");  // the first focusable element
  EXPECT_EQ(term.Lines()[0], "*left0");
  EXPECT_TRUE(term.screen().StyleAt(0, 0).bold);
  term.Press(Key::Char('x'));
  EXPECT_EQ(term.Lines()[0], "*left1");
  term.Press(Key::Code(KeyCode::kTab));  // unhandled Tab moves the focus
  EXPECT_EQ(term.runtime().focused(), "right");
  EXPECT_EQ(term.Lines()[1], "*right0");
  term.Press(Key::Char('x'));
  EXPECT_EQ(term.Lines()[1], "*right1");
  EXPECT_FALSE(term.Press(Key::Char('z')));  // bubbles to root, which does not handle it
  EXPECT_TRUE(term.Press(Key::Char('q')));
  EXPECT_TRUE(term.runtime().quit_requested());
  EXPECT_EQ(keys, (std::vector<std::string>{"left x", "root Tab", "right x", "root z", "root q"}));
  g_keys = nullptr;
}

}  // namespace
}  // namespace shim::tui
