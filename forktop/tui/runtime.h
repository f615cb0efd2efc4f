// The component runtime: expands component elements (keeping each instance's hook state under
// its identity: function, key or position), lays the host tree out into a Screen, runs effects
// after the frame, unmounts instances that disappeared, and dispatches keys to the focused
// element with bubbling.
//
// Hooks (call them unconditionally and in the same order on every render, as in React):
//   auto [v, set_v] = use_state(initial);   // set_v(x) or set_v.Update(fn); batched: any number
//                                           // of updates before the next frame cause one render
//   use_effect(fn, deps);                   // fn runs after the frame when deps changed (always
//                                           // when deps is nullopt, once for {}); the cleanup it
//                                           // returns runs before the next run and on unmount
//   auto ref = use_ref<T>(initial);         // a shared_ptr<T> kept across renders, no re-render
#pragma once

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "tui/element.h"
#include "tui/screen.h"

namespace shim::tui {

// Marks the runtime dirty: state changed, a frame is due.
struct Scheduler {
  bool dirty = true;
  std::function<void()> on_dirty;  // the event loop arms its frame timer here
  void MarkDirty() {
    const bool was = dirty;
    dirty = true;
    if (!was && on_dirty) on_dirty();
  }
};

struct HookSlot {
  virtual ~HookSlot() = default;
};

template <typename T>
struct StateSlot : HookSlot {
  explicit StateSlot(T v) : value(std::move(v)) {}
  T value;
};

template <typename T>
class StateSetter {
 public:
  StateSetter(std::weak_ptr<StateSlot<T>> slot, std::weak_ptr<Scheduler> scheduler)
      : slot_(std::move(slot)), scheduler_(std::move(scheduler)) {}

  void operator()(T value) const {
    Update([&value](const T&) { return std::move(value); });
  }
  // `fn(latest)` computes the new value from the latest one (not the one this render saw).
  template <typename Fn>
  void Update(Fn&& fn) const {
    auto slot = slot_.lock();
    if (!slot) return;  // the component was unmounted
    T next = fn(slot->value);
    if constexpr (std::equality_comparable<T>) {
      if (next == slot->value) return;  // no change, no render
    }
    slot->value = std::move(next);
    if (auto s = scheduler_.lock()) s->MarkDirty();
  }

 private:
  std::weak_ptr<StateSlot<T>> slot_;
  std::weak_ptr<Scheduler> scheduler_;
};

using DepValue = std::variant<int64_t, double, bool, std::string>;
using Deps = std::vector<DepValue>;
using Cleanup = std::function<void()>;

struct EffectSlot : HookSlot {
  std::optional<Deps> deps;
  bool ran = false;
  Cleanup cleanup;
};

template <typename T>
struct RefSlot : HookSlot {
  explicit RefSlot(T v) : ref(std::make_shared<T>(std::move(v))) {}
  std::shared_ptr<T> ref;
};

class Runtime {
 public:
  explicit Runtime(Element root);
  ~Runtime();  // unmounts everything: every effect cleanup runs

  // Renders the tree into a width x height screen, runs the due effects, and clears dirty.
  const Screen& Frame(int width, int height);
  const Screen& screen() const { return screen_; }
  // The size of the frame being rendered (components adapt their layout to it).
  int width() const { return width_; }
  int height() const { return height_; }
  bool dirty() const { return scheduler_->dirty; }
  void MarkDirty() { scheduler_->MarkDirty(); }
  Scheduler& scheduler() { return *scheduler_; }
  int render_count() const { return render_count_; }

  // Sends a key to the focused element, bubbling to its ancestors until one handles it. Unhandled
  // Tab/BackTab move the focus. Returns whether something handled it.
  bool DispatchKey(const Key& key);
  void Focus(const std::string& id);
  const std::string& focused() const { return focused_; }
  void FocusNext(int direction);

  // Set by a component (or the loop on SIGINT/SIGTERM) to end the event loop.
  void RequestQuit() { quit_ = true; }
  bool quit_requested() const { return quit_; }

  // The runtime rendering now (inside components, effects, key handlers and the event loop's fd
  // callbacks).
  static Runtime* Current();
  class CurrentGuard {
   public:
    explicit CurrentGuard(Runtime* rt);
    ~CurrentGuard();
    CurrentGuard(const CurrentGuard&) = delete;
    CurrentGuard& operator=(const CurrentGuard&) = delete;

   private:
    Runtime* saved_;
  };

  // Hook plumbing (use the free functions below).
  template <typename T>
  std::shared_ptr<T> NextHook(const std::function<std::shared_ptr<T>()>& make);
  std::shared_ptr<Scheduler> scheduler_ptr() const { return scheduler_; }
  void ScheduleEffect(EffectSlot* slot, std::function<Cleanup()> fn);

 private:
  struct Instance;
  struct PendingEffect {
    EffectSlot* slot;
    std::function<Cleanup()> fn;
  };

  Element Resolve(Element e, Instance* owner, const std::string& path);
  void Unmount(Instance* inst);
  void CollectFocusable(const Element& e, std::vector<std::string>& out) const;
  bool FindPath(const Element& e, const std::string& id, std::vector<const Element*>& path) const;

  Element root_;
  std::unique_ptr<Instance> root_instance_;
  Element resolved_;
  Screen screen_;
  std::shared_ptr<Scheduler> scheduler_ = std::make_shared<Scheduler>();
  std::vector<PendingEffect> pending_effects_;
  Instance* current_ = nullptr;
  size_t hook_index_ = 0;
  uint64_t generation_ = 0;
  int render_count_ = 0;
  int width_ = 0;
  int height_ = 0;
  std::string focused_;
  bool quit_ = false;
};

struct Runtime::Instance {
  const void* type = nullptr;
  uint64_t generation = 0;
  std::vector<std::shared_ptr<HookSlot>> hooks;
  std::map<std::string, std::unique_ptr<Instance>> children;
};

template <typename T>
std::shared_ptr<T> Runtime::NextHook(const std::function<std::shared_ptr<T>()>& make) {
  if (current_ == nullptr) {
    std::fprintf(stderr, "tui: a hook was called outside a component render\n");
    std::abort();
  }
  auto& hooks = current_->hooks;
  if (hook_index_ == hooks.size()) hooks.push_back(make());
  auto slot = std::dynamic_pointer_cast<T>(hooks[hook_index_]);
  if (slot == nullptr) {
    std::fprintf(stderr, "tui: hooks called in a different order than in the last render\n");
    std::abort();
  }
  ++hook_index_;
  return slot;
}

template <typename T>
std::pair<T, StateSetter<T>> use_state(T initial) {
  Runtime* rt = Runtime::Current();
  auto slot = rt->NextHook<StateSlot<T>>(
      [&] { return std::make_shared<StateSlot<T>>(std::move(initial)); });
  return {slot->value, StateSetter<T>(slot, rt->scheduler_ptr())};
}

// `fn` returns a cleanup (or nullptr). `deps`: nullopt = after every render; {} = once.
void use_effect(std::function<Cleanup()> fn, std::optional<Deps> deps);

template <typename T>
std::shared_ptr<T> use_ref(T initial) {
  Runtime* rt = Runtime::Current();
  return rt->NextHook<RefSlot<T>>([&] { return std::make_shared<RefSlot<T>>(std::move(initial)); })
      ->ref;
}

// Whether the element with focus id `id` has the keyboard focus.
bool is_focused(const std::string& id);

}  // namespace shim::tui
