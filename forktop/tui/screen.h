// The cell grid every frame is drawn into. It is also the in-memory backend: tests render a
// component tree into a Screen and read it back as text lines and per-cell attributes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shim::tui {

// Colours: -1 is the terminal default, 0-15 the ANSI palette, 16-255 the xterm 256 palette.
enum Color : int16_t {
  kDefault = -1,
  kBlack = 0,
  kRed = 1,
  kGreen = 2,
  kYellow = 3,
  kBlue = 4,
  kMagenta = 5,
  kCyan = 6,
  kWhite = 7,
  kBrightBlack = 8,
};

struct Style {
  int16_t fg = kDefault;
  int16_t bg = kDefault;
  bool bold = false;
  bool dim = false;
  bool reverse = false;
  bool underline = false;

  bool operator==(const Style&) const = default;
  Style Bold() const;
  Style Dim() const;
  Style Reverse() const;
  Style Fg(int16_t color) const;
  Style Bg(int16_t color) const;
};

struct Cell {
  std::string glyph = " ";  // one code point (plus combining marks) in UTF-8; "" = wide tail
  Style style;
  bool operator==(const Cell&) const = default;
};

struct Rect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

class Screen {
 public:
  Screen() = default;
  Screen(int width, int height);

  int width() const { return width_; }
  int height() const { return height_; }
  const Cell& at(int x, int y) const { return cells_[y * width_ + x]; }
  // Raw cell access (the renderer updates its copy of the terminal cell by cell).
  Cell& cell(int x, int y) { return cells_[y * width_ + x]; }

  // Fills `area` (clipped to the screen) with blanks of `style`.
  void Fill(Rect area, const Style& style);

  // Writes `text` at (x, y), clipped to `max_x` (exclusive) and the screen. Control characters
  // are replaced, a wide character that does not fit is replaced by a space, combining marks
  // join the previous cell. Returns the column after the text.
  int Put(int x, int y, std::string_view text, const Style& style, int max_x = 1 << 30);

  // The screen as text, one string per row (trailing spaces trimmed), for tests and --once.
  std::vector<std::string> Lines() const;
  std::string Line(int y) const;
  const Style& StyleAt(int x, int y) const { return at(x, y).style; }

  // Row/column of the first occurrence of `needle` on the screen, or {-1, -1}.
  std::pair<int, int> Find(std::string_view needle) const;

  bool operator==(const Screen&) const = default;

 private:
  Cell& mut(int x, int y) { return cells_[y * width_ + x]; }
  // Overwriting half of a wide character blanks its other half.
  void BreakWide(int x, int y);

  int width_ = 0;
  int height_ = 0;
  std::vector<Cell> cells_;
};

}  // namespace shim::tui
