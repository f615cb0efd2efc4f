// A minimal terminal emulator for tests: applies the renderer's output (CUP, CUF, CR, LF, SGR,
// clear, DEC private modes) to a grid, so a test can check that the bytes reproduce the frame.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tui/renderer.h"
#include "tui/screen.h"
#include "tui/utf8.h"

namespace shim::tui::testing {

class Vt {
 public:
  Vt(int w, int h) : screen_(w, h) {}

  void Apply(std::string_view bytes) {
    size_t i = 0;
    while (i < bytes.size()) {
      const char c = bytes[i];
      if (c == '\x1b' && i + 1 < bytes.size() && bytes[i + 1] == '[') {
        size_t j = i + 2;
        while (j < bytes.size() && (bytes[j] < 0x40 || bytes[j] > 0x7e)) ++j;
        const std::string params(bytes.substr(i + 2, j - i - 2));
        Csi(params, bytes[j]);
        i = j + 1;
      } else if (c == '\r') {
        x_ = 0;
        ++i;
      } else if (c == '\n') {
        ++y_;
        ++i;
      } else {
        size_t next = i;
        const char32_t cp = DecodeUtf8(bytes, next);
        std::string glyph(bytes.substr(i, next - i));
        const int w = CodePointWidth(cp);
        if (x_ >= screen_.width()) {  // deferred wrap
          x_ = 0;
          ++y_;
        }
        screen_.Put(x_, y_, glyph, style_);
        x_ += w;
        i = next;
      }
    }
  }

  const Screen& screen() const { return screen_; }
  std::vector<std::string> modes;  // DEC private mode changes seen, e.g. "?2026h"

 private:
  void Csi(const std::string& p, char f) {
    if (!p.empty() && p[0] == '?') {
      modes.push_back(p + f);
      return;
    }
    std::vector<int> n;
    size_t pos = 0;
    while (pos <= p.size()) {
      const size_t semi = p.find(';', pos);
      const std::string part =
          p.substr(pos, semi == std::string::npos ? std::string::npos : semi - pos);
      n.push_back(part.empty() ? 0 : std::stoi(part));
      if (semi == std::string::npos) break;
      pos = semi + 1;
    }
    switch (f) {
      case 'H':
        y_ = (n.size() > 0 && n[0] > 0 ? n[0] : 1) - 1;
        x_ = (n.size() > 1 && n[1] > 0 ? n[1] : 1) - 1;
        break;
      case 'C':
        x_ += n[0] > 0 ? n[0] : 1;
        break;
      case 'J':
        screen_ = Screen(screen_.width(), screen_.height());
        break;
      case 'm': {
        for (size_t k = 0; k < n.size(); ++k) {
          const int v = n[k];
          if (v == 0) style_ = Style{};
          if (v == 1) style_.bold = true;
          if (v == 2) style_.dim = true;
          if (v == 4) style_.underline = true;
          if (v == 7) style_.reverse = true;
          if (v >= 30 && v <= 37) style_.fg = static_cast<int16_t>(v - 30);
          if (v >= 40 && v <= 47) style_.bg = static_cast<int16_t>(v - 40);
          if (v >= 90 && v <= 97) style_.fg = static_cast<int16_t>(v - 90 + 8);
          if (v >= 100 && v <= 107) style_.bg = static_cast<int16_t>(v - 100 + 8);
          if ((v == 38 || v == 48) && k + 2 < n.size()) {
            (v == 38 ? style_.fg : style_.bg) = static_cast<int16_t>(n[k + 2]);
            k += 2;
          }
        }
        break;
      }
      default:
        break;
    }
  }

  Screen screen_;
  int x_ = 0;
  int y_ = 0;
  Style style_;
};

}  // namespace shim::tui::testing
