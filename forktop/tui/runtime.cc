#include "tui/runtime.h"

#include <algorithm>
#include <cstdio>

#include "tui/layout.h"

namespace shim::tui {
namespace {

thread_local Runtime* g_current = nullptr;

// Makes `rt` current for the scope (renders, effects and key handlers may nest).
class CurrentScope {
 public:
  explicit CurrentScope(Runtime* rt) : saved_(g_current) { g_current = rt; }
  ~CurrentScope() { g_current = saved_; }

 private:
  Runtime* saved_;
};

std::string PointerName(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

}  // namespace

Runtime* Runtime::Current() { return g_current; }

Runtime::CurrentGuard::CurrentGuard(Runtime* rt) : saved_(g_current) { g_current = rt; }
Runtime::CurrentGuard::~CurrentGuard() { g_current = saved_; }

Runtime::Runtime(Element root) : root_(std::move(root)), root_instance_(new Instance) {}

Runtime::~Runtime() {
  CurrentScope scope(this);
  Unmount(root_instance_.get());
}

void use_effect(std::function<Cleanup()> fn, std::optional<Deps> deps) {
  Runtime* rt = Runtime::Current();
  auto slot = rt->NextHook<EffectSlot>([] { return std::make_shared<EffectSlot>(); });
  const bool due =
      !slot->ran || !deps.has_value() || !slot->deps.has_value() || *deps != *slot->deps;
  if (!due) return;
  slot->deps = std::move(deps);
  rt->ScheduleEffect(slot.get(), std::move(fn));
}

bool is_focused(const std::string& id) {
  Runtime* rt = Runtime::Current();
  return rt != nullptr && rt->focused() == id;
}

void Runtime::ScheduleEffect(EffectSlot* slot, std::function<Cleanup()> fn) {
  pending_effects_.push_back({slot, std::move(fn)});
}

Element Runtime::Resolve(Element e, Instance* owner, const std::string& path) {
  if (e.kind == Element::Kind::kComponent) {
    // Identity: owner + position (or key) + the component function.
    const std::string id = path + "@" + PointerName(e.component->type);
    auto& slot = owner->children[id];
    if (!slot || slot->type != e.component->type) {
      if (slot) Unmount(slot.get());
      slot = std::make_unique<Instance>();
      slot->type = e.component->type;
    }
    Instance* inst = slot.get();
    inst->generation = generation_;
    Instance* saved = current_;
    const size_t saved_index = hook_index_;
    current_ = inst;
    hook_index_ = 0;
    Element out = e.component->render();
    current_ = saved;
    hook_index_ = saved_index;
    // A component's own size/key apply to what it renders unless that sets its own.
    if (out.size.kind == Size::Kind::kAuto) out.size = e.size;
    return Resolve(std::move(out), inst, "");
  }
  for (size_t i = 0; i < e.children.size(); ++i) {
    Element& child = e.children[i];
    std::string child_path = path;
    child_path += '/';
    if (child.key.empty()) {
      child_path += std::to_string(i);
    } else {
      child_path += "k:";
      child_path += child.key;
    }
    child = Resolve(std::move(child), owner, child_path);
  }
  return e;
}

void Runtime::Unmount(Instance* inst) {
  for (auto& [id, child] : inst->children) Unmount(child.get());
  inst->children.clear();
  for (auto& hook : inst->hooks) {
    if (auto* effect = dynamic_cast<EffectSlot*>(hook.get()); effect && effect->cleanup) {
      Cleanup cleanup = std::move(effect->cleanup);
      effect->cleanup = nullptr;
      cleanup();
    }
  }
  // Drop any effect of this instance still queued for the current frame.
  std::erase_if(pending_effects_, [inst](const PendingEffect& p) {
    return std::any_of(inst->hooks.begin(), inst->hooks.end(),
                       [&](const auto& h) { return h.get() == p.slot; });
  });
  inst->hooks.clear();
}

namespace {

// Removes (and unmounts via `unmount`) instances not rendered in `generation`.
template <typename Inst, typename Fn>
void Sweep(Inst* inst, uint64_t generation, Fn&& unmount) {
  for (auto it = inst->children.begin(); it != inst->children.end();) {
    if (it->second->generation != generation) {
      unmount(it->second.get());
      it = inst->children.erase(it);
    } else {
      Sweep(it->second.get(), generation, unmount);
      ++it;
    }
  }
}

}  // namespace

const Screen& Runtime::Frame(int width, int height) {
  CurrentScope scope(this);
  scheduler_->dirty = false;
  width_ = width;
  height_ = height;
  ++generation_;
  ++render_count_;
  root_instance_->generation = generation_;
  resolved_ = Resolve(root_, root_instance_.get(), "");
  Sweep(root_instance_.get(), generation_, [this](Instance* i) { Unmount(i); });

  screen_ = Screen(width, height);
  Draw(resolved_, Rect{0, 0, width, height}, screen_);

  // The focused element may have gone away: fall back to the first focusable one.
  std::vector<std::string> focusable;
  CollectFocusable(resolved_, focusable);
  // Components saw the old focus during this render, so the change renders on the next frame.
  if (std::find(focusable.begin(), focusable.end(), focused_) == focusable.end()) {
    const std::string fallback = focusable.empty() ? "" : focusable.front();
    if (fallback != focused_) {
      focused_ = fallback;
      scheduler_->MarkDirty();
    }
  }

  // Effects after the frame: every due cleanup first, then the effects, in render order.
  std::vector<PendingEffect> effects = std::move(pending_effects_);
  pending_effects_.clear();
  for (PendingEffect& p : effects) {
    if (p.slot->cleanup) {
      Cleanup cleanup = std::move(p.slot->cleanup);
      p.slot->cleanup = nullptr;
      cleanup();
    }
  }
  for (PendingEffect& p : effects) {
    p.slot->ran = true;
    p.slot->cleanup = p.fn();
  }
  return screen_;
}

void Runtime::CollectFocusable(const Element& e, std::vector<std::string>& out) const {
  if (!e.focus_id.empty()) out.push_back(e.focus_id);
  for (const Element& c : e.children) CollectFocusable(c, out);
}

bool Runtime::FindPath(const Element& e, const std::string& id,
                       std::vector<const Element*>& path) const {
  path.push_back(&e);
  if (!id.empty() && e.focus_id == id) return true;
  for (const Element& c : e.children) {
    if (FindPath(c, id, path)) return true;
  }
  path.pop_back();
  return false;
}

void Runtime::Focus(const std::string& id) {
  if (focused_ == id) return;
  focused_ = id;
  MarkDirty();
}

void Runtime::FocusNext(int direction) {
  std::vector<std::string> focusable;
  CollectFocusable(resolved_, focusable);
  if (focusable.empty()) return;
  auto it = std::find(focusable.begin(), focusable.end(), focused_);
  int index = it == focusable.end() ? 0 : static_cast<int>(it - focusable.begin()) + direction;
  const int n = static_cast<int>(focusable.size());
  Focus(focusable[((index % n) + n) % n]);
}

bool Runtime::DispatchKey(const Key& key) {
  CurrentScope scope(this);
  std::vector<const Element*> path;
  if (!FindPath(resolved_, focused_, path)) path = {&resolved_};
  // Copy the handlers first: a handler may trigger nothing that frees them (renders happen only
  // in Frame), but keep them alive regardless.
  std::vector<KeyHandler> handlers;
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    if ((*it)->on_key) handlers.push_back((*it)->on_key);
  }
  for (const KeyHandler& h : handlers) {
    if (h(key)) return true;
  }
  if (key.code == KeyCode::kTab || key.code == KeyCode::kBackTab) {
    FocusNext(key.code == KeyCode::kTab ? 1 : -1);
    return true;
  }
  return false;
}

}  // namespace shim::tui
