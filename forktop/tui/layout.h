// Layout: splits a row or column among its children (fixed sizes first, the rest shared by
// flexible children in proportion to their weights) and draws host elements into a Screen.
#pragma once

#include <vector>

#include "tui/element.h"
#include "tui/screen.h"

namespace shim::tui {

// Sizes along the main axis for `children` in `total` cells. Auto text is its width in a row
// and one line in a column; auto containers and lists are Flex(1). Children that do not fit get 0.
std::vector<int> SplitMainAxis(const std::vector<Element>& children, int total, bool row);

// Draws a resolved (component-free) element into `area`. Lists update their scroll offset.
void Draw(const Element& e, Rect area, Screen& screen);

// Writes spans on one line, truncating with an ellipsis when they do not fit `width`.
void DrawSpans(const std::vector<Span>& spans, int x, int y, int width, Screen& screen);

// Keeps `selected` within [offset, offset + height) moving the offset as little as possible.
int ScrollOffset(int offset, int selected, int count, int height);

}  // namespace shim::tui
