#include "tui/layout.h"

#include <algorithm>

#include "tui/utf8.h"

namespace shim::tui {
namespace {

int SpansWidth(const std::vector<Span>& spans) {
  int w = 0;
  for (const Span& s : spans) w += DisplayWidth(s.text);
  return w;
}

}  // namespace

std::vector<int> SplitMainAxis(const std::vector<Element>& children, int total, bool row) {
  std::vector<int> sizes(children.size(), 0);
  int used = 0;
  int weights = 0;
  for (size_t i = 0; i < children.size(); ++i) {
    const Element& c = children[i];
    Size s = c.size;
    if (s.kind == Size::Kind::kAuto) {
      if (c.kind == Element::Kind::kText) {
        s = Size::Fixed(row ? SpansWidth(c.spans) : 1);
      } else if (c.kind == Element::Kind::kEmpty) {
        s = Size::Fixed(0);
      } else {
        s = Size::Flex(1);
      }
    }
    if (s.kind == Size::Kind::kFixed) {
      sizes[i] = std::max(0, std::min(s.value, total - used));
      used += sizes[i];
    } else {
      sizes[i] = -std::max(1, s.value);  // negative: a weight, resolved below
      weights += std::max(1, s.value);
    }
  }
  int remaining = std::max(0, total - used);
  const int flexible = remaining;
  for (size_t i = 0; i < sizes.size() && weights > 0; ++i) {
    if (sizes[i] >= 0) continue;
    const int weight = -sizes[i];
    int share = flexible * weight / weights;
    sizes[i] = share;
    remaining -= share;
  }
  // Rounding leftovers go to the first flexible children.
  for (size_t i = 0; i < sizes.size() && remaining > 0; ++i) {
    const Element& c = children[i];
    const bool flex = c.size.kind == Size::Kind::kFlex ||
                      (c.size.kind == Size::Kind::kAuto && c.kind != Element::Kind::kText &&
                       c.kind != Element::Kind::kEmpty);
    if (flex) {
      ++sizes[i];
      --remaining;
    }
  }
  return sizes;
}

void DrawSpans(const std::vector<Span>& spans, int x, int y, int width, Screen& screen) {
  if (width <= 0) return;
  const int end = x + width;
  if (SpansWidth(spans) <= width) {
    for (const Span& s : spans) x = screen.Put(x, y, s.text, s.style, end);
    return;
  }
  // Too long: draw up to width - 1 columns and an ellipsis in the style of the cut span.
  Style last;
  for (const Span& s : spans) {
    if (x >= end - 1) break;
    last = s.style;
    x = screen.Put(x, y, s.text, s.style, end - 1);
  }
  screen.Put(std::min(x, end - 1), y, "\xE2\x80\xA6", last, end);
}

int ScrollOffset(int offset, int selected, int count, int height) {
  if (height <= 0) return 0;
  if (selected >= 0) {
    if (selected < offset) offset = selected;
    if (selected >= offset + height) offset = selected - height + 1;
  }
  return std::clamp(offset, 0, std::max(0, count - height));
}

void Draw(const Element& e, Rect area, Screen& screen) {
  if (area.width <= 0 || area.height <= 0) return;
  screen.Fill(area, e.style);
  switch (e.kind) {
    case Element::Kind::kEmpty:
    case Element::Kind::kComponent:
      return;
    case Element::Kind::kText:
      DrawSpans(e.spans, area.x, area.y, area.width, screen);
      return;
    case Element::Kind::kRow:
    case Element::Kind::kColumn: {
      const bool row = e.kind == Element::Kind::kRow;
      const std::vector<int> sizes = SplitMainAxis(e.children, row ? area.width : area.height, row);
      int pos = row ? area.x : area.y;
      for (size_t i = 0; i < e.children.size(); ++i) {
        Rect child = row ? Rect{pos, area.y, sizes[i], area.height}
                         : Rect{area.x, pos, area.width, sizes[i]};
        Draw(e.children[i], child, screen);
        pos += sizes[i];
      }
      return;
    }
    case Element::Kind::kList: {
      int offset = e.scroll ? *e.scroll : 0;
      offset = ScrollOffset(offset, e.selected, e.count, area.height);
      if (e.scroll) *e.scroll = offset;
      for (int row = 0; row < area.height && offset + row < e.count; ++row) {
        if (!e.item) break;
        Draw(e.item(offset + row), Rect{area.x, area.y + row, area.width, 1}, screen);
      }
      return;
    }
  }
}

}  // namespace shim::tui
