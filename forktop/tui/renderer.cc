#include "tui/renderer.h"

#include <string>

namespace shim::tui {
namespace {

void AppendColor(std::string& out, int16_t color, bool background) {
  if (color < 0) return;
  if (color < 8) {
    out += ';';
    out += std::to_string((background ? 40 : 30) + color);
  } else if (color < 16) {
    out += ';';
    out += std::to_string((background ? 100 : 90) + color - 8);
  } else {
    out += background ? ";48;5;" : ";38;5;";
    out += std::to_string(color);
  }
}

}  // namespace

std::string SgrFor(const Style& style) {
  std::string out = "\x1b[0";
  if (style.bold) out += ";1";
  if (style.dim) out += ";2";
  if (style.underline) out += ";4";
  if (style.reverse) out += ";7";
  AppendColor(out, style.fg, false);
  AppendColor(out, style.bg, true);
  out += 'm';
  return out;
}

void DiffRenderer::SetStyle(std::string& out, const Style& style) {
  if (style == cur_style_) return;
  out += SgrFor(style);
  cur_style_ = style;
}

void DiffRenderer::MoveTo(std::string& out, int x, int y) {
  if (x == cur_x_ && y == cur_y_) return;
  if (cur_y_ == y && cur_x_ >= 0 && x > cur_x_) {
    const int n = x - cur_x_;
    out += n == 1 ? std::string("\x1b[C") : "\x1b[" + std::to_string(n) + "C";
  } else if (x == 0 && cur_y_ >= 0 && cur_x_ >= 0 && y == cur_y_ + 1) {
    out += "\r\n";
  } else if (x == 0 && y == cur_y_ && cur_x_ >= 0) {
    out += '\r';
  } else {
    out += "\x1b[" + std::to_string(y + 1) + ";" + std::to_string(x + 1) + "H";
  }
  cur_x_ = x;
  cur_y_ = y;
}

std::string DiffRenderer::Render(const Screen& next) {
  std::string out;
  stats_ = {};
  if (!valid_ || front_.width() != next.width() || front_.height() != next.height()) {
    // Unknown or resized terminal: clear it and diff against a blank grid.
    cur_style_ = Style{};
    out += "\x1b[0m\x1b[H\x1b[2J";
    cur_x_ = 0;
    cur_y_ = 0;
    front_ = Screen(next.width(), next.height());
    valid_ = true;
  }
  for (int y = 0; y < next.height(); ++y) {
    for (int x = 0; x < next.width(); ++x) {
      const Cell& cell = next.at(x, y);
      Cell& shown = front_.cell(x, y);
      if (cell == shown) continue;
      shown = cell;  // only changed cells are copied: a one-cell frame costs one compare pass
      if (cell.glyph.empty()) continue;  // a wide tail: written together with its head
      MoveTo(out, x, y);
      SetStyle(out, cell.style);
      out += cell.glyph;
      ++stats_.cells_written;
      const bool wide = x + 1 < next.width() && next.at(x + 1, y).glyph.empty();
      cur_x_ = x + (wide ? 2 : 1);
      if (cur_x_ >= next.width()) cur_x_ = -1;  // pending wrap: position unknown
    }
  }
  if (out.empty()) return out;
  if (sync_) out = "\x1b[?2026h" + out + "\x1b[?2026l";
  stats_.bytes = out.size();
  return out;
}

}  // namespace shim::tui
