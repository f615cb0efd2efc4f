// Elements: the immutable description a component returns for one render. Host elements (text,
// rows, columns, virtual lists) are laid out and drawn; component elements are expanded by the
// Runtime (runtime.h), which keeps their hook state across renders.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tui/keys.h"
#include "tui/screen.h"

namespace shim::tui {

struct Element;

// The size an element takes along its parent's main axis (width in a row, height in a column).
struct Size {
  enum class Kind { kAuto, kFixed, kFlex };
  Kind kind = Kind::kAuto;  // text: its width in a row, one line in a column; others: Flex(1)
  int value = 0;
  static Size Fixed(int n) { return {Kind::kFixed, n}; }
  static Size Flex(int weight = 1) { return {Kind::kFlex, weight}; }
  static Size Auto() { return {}; }
};

struct Span {
  std::string text;
  Style style;
};

// Returns true when the key was handled; unhandled keys bubble to the enclosing handler.
using KeyHandler = std::function<bool(const Key&)>;

// A component, type-erased: `type` identifies the function (with the key and tree position, the
// identity under which hook state is kept) and `render` calls it with its props.
struct ComponentThunk {
  const void* type = nullptr;
  std::function<Element()> render;
};

struct Element {
  enum class Kind { kEmpty, kText, kRow, kColumn, kList, kComponent };
  Kind kind = Kind::kEmpty;
  Size size;
  std::string key;          // identity among siblings (keeps component state when siblings move)
  Style style;              // background of the element's whole area
  std::vector<Span> spans;  // kText: one line, truncated with an ellipsis
  std::vector<Element> children;  // kRow / kColumn
  std::string focus_id;           // non-empty: the element can hold the keyboard focus
  KeyHandler on_key;              // keys for the focused element or any descendant of it
  // kList: `count` items of one line, built lazily for the visible window only (items are host
  // elements: no components inside). `scroll` holds the first visible item across renders (owned
  // by the component, e.g. use_ref) and is adjusted so `selected` stays visible.
  int count = 0;
  int selected = -1;
  std::function<Element(int index)> item;
  std::shared_ptr<int> scroll;
  std::shared_ptr<const ComponentThunk> component;  // kComponent

  // Fluent modifiers for building trees inline.
  Element&& Fixed(int n) && {
    size = Size::Fixed(n);
    return std::move(*this);
  }
  Element&& Flex(int weight = 1) && {
    size = Size::Flex(weight);
    return std::move(*this);
  }
  Element&& Key(std::string k) && {
    key = std::move(k);
    return std::move(*this);
  }
  Element&& Background(Style s) && {
    style = s;
    return std::move(*this);
  }
  Element&& Focusable(std::string id) && {
    focus_id = std::move(id);
    return std::move(*this);
  }
  Element&& OnKey(KeyHandler h) && {
    on_key = std::move(h);
    return std::move(*this);
  }
};

Element Empty();
Element Text(std::string text, Style style = {});
Element Text(std::vector<Span> spans);
Element Row(std::vector<Element> children);
Element Column(std::vector<Element> children);
Element List(int count, int selected, std::shared_ptr<int> scroll,
             std::function<Element(int index)> item);

// A component element: `fn(props)` is called when the tree renders.
template <typename Props>
Element Component(Element (*fn)(const Props&), Props props, std::string key = "") {
  auto thunk = std::make_shared<ComponentThunk>();
  thunk->type = reinterpret_cast<const void*>(fn);
  thunk->render = [fn, p = std::move(props)]() { return fn(p); };
  Element e;
  e.kind = Element::Kind::kComponent;
  e.key = std::move(key);
  e.component = std::move(thunk);
  return e;
}

inline Element Component(Element (*fn)(), std::string key = "") {
  auto thunk = std::make_shared<ComponentThunk>();
  thunk->type = reinterpret_cast<const void*>(fn);
  thunk->render = fn;
  Element e;
  e.kind = Element::Kind::kComponent;
  e.key = std::move(key);
  e.component = std::move(thunk);
  return e;
}

}  // namespace shim::tui
