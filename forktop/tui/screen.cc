#include "tui/screen.h"

#include <algorithm>

#include "tui/utf8.h"

namespace shim::tui {

Style Style::Bold() const {
  Style s = *this;
  s.bold = true;
  return s;
}
Style Style::Dim() const {
  Style s = *this;
  s.dim = true;
  return s;
}
Style Style::Reverse() const {
  Style s = *this;
  s.reverse = true;
  return s;
}
Style Style::Fg(int16_t color) const {
  Style s = *this;
  s.fg = color;
  return s;
}
Style Style::Bg(int16_t color) const {
  Style s = *this;
  s.bg = color;
  return s;
}

Screen::Screen(int width, int height)
    : width_(std::max(0, width)),
      height_(std::max(0, height)),
      cells_(static_cast<size_t>(width_) * height_) {}

void Screen::Fill(Rect area, const Style& style) {
  const int x0 = std::max(0, area.x), y0 = std::max(0, area.y);
  const int x1 = std::min(width_, area.x + area.width);
  const int y1 = std::min(height_, area.y + area.height);
  for (int y = y0; y < y1; ++y) {
    if (x0 < x1) {
      BreakWide(x0, y);
      BreakWide(x1 - 1, y);
    }
    for (int x = x0; x < x1; ++x) mut(x, y) = Cell{" ", style};
  }
}

void Screen::BreakWide(int x, int y) {
  Cell& c = mut(x, y);
  if (c.glyph.empty() && x > 0) {
    mut(x - 1, y).glyph.assign(1, ' ');  // we overwrite the tail: the head loses its half
  } else if (x + 1 < width_ && at(x + 1, y).glyph.empty()) {
    mut(x + 1, y).glyph.assign(1, ' ');  // we overwrite the head: the tail is orphaned
  }
}

int Screen::Put(int x, int y, std::string_view text, const Style& style, int max_x) {
  if (y < 0 || y >= height_) return x;
  max_x = std::min(max_x, width_);
  size_t pos = 0;
  while (pos < text.size() && x < max_x) {
    const size_t start = pos;
    const char32_t raw = DecodeUtf8(text, pos);
    const char32_t cp = Printable(raw);
    const int w = CodePointWidth(cp);
    std::string glyph;
    if (cp == raw && cp != 0xFFFD) {
      glyph.assign(text.substr(start, pos - start));
    } else {
      AppendUtf8(glyph, cp);
    }
    if (w == 0) {
      if (x > 0) mut(x - 1, y).glyph += glyph;  // a combining mark joins the previous cell
      continue;
    }
    if (x < 0) {
      x += w;
      continue;
    }
    BreakWide(x, y);
    if (w == 2) {
      if (x + 1 >= max_x) {
        mut(x, y) = Cell{" ", style};
        ++x;
        break;
      }
      BreakWide(x + 1, y);
      mut(x, y) = Cell{std::move(glyph), style};
      mut(x + 1, y) = Cell{"", style};
      x += 2;
    } else {
      mut(x, y) = Cell{std::move(glyph), style};
      ++x;
    }
  }
  return x;
}

std::string Screen::Line(int y) const {
  std::string line;
  for (int x = 0; x < width_; ++x) line += at(x, y).glyph;
  const size_t end = line.find_last_not_of(' ');
  line.resize(end == std::string::npos ? 0 : end + 1);
  return line;
}

std::vector<std::string> Screen::Lines() const {
  std::vector<std::string> lines;
  lines.reserve(static_cast<size_t>(height_));
  for (int y = 0; y < height_; ++y) lines.push_back(Line(y));
  return lines;
}

std::pair<int, int> Screen::Find(std::string_view needle) const {
  for (int y = 0; y < height_; ++y) {
    // Map byte offsets in the row text back to columns.
    std::string line;
    std::vector<int> column_of_byte;
    for (int x = 0; x < width_; ++x) {
      for (size_t i = 0; i < at(x, y).glyph.size(); ++i) column_of_byte.push_back(x);
      line += at(x, y).glyph;
    }
    const size_t hit = line.find(needle);
    if (hit != std::string::npos) return {y, column_of_byte[hit]};
  }
  return {-1, -1};
}

}  // namespace shim::tui
