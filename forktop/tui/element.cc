#include "tui/element.h"

namespace shim::tui {

Element Empty() { return Element{}; }

Element Text(std::string text, Style style) {
  Element e;
  e.kind = Element::Kind::kText;
  e.spans.push_back(Span{std::move(text), style});
  return e;
}

Element Text(std::vector<Span> spans) {
  Element e;
  e.kind = Element::Kind::kText;
  e.spans = std::move(spans);
  return e;
}

Element Row(std::vector<Element> children) {
  Element e;
  e.kind = Element::Kind::kRow;
  e.children = std::move(children);
  return e;
}

Element Column(std::vector<Element> children) {
  Element e;
  e.kind = Element::Kind::kColumn;
  e.children = std::move(children);
  return e;
}

Element List(int count, int selected, std::shared_ptr<int> scroll,
             std::function<Element(int index)> item) {
  Element e;
  e.kind = Element::Kind::kList;
  e.count = count;
  e.selected = selected;
  e.scroll = std::move(scroll);
  e.item = std::move(item);
  return e;
}

}  // namespace shim::tui
