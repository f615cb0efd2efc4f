#include "tui/keys.h"

#include <cstdlib>

#include "tui/utf8.h"

namespace shim::tui {
namespace {

// Length of a UTF-8 sequence from its first byte (1 for invalid lead bytes).
size_t Utf8Length(unsigned char b) {
  if ((b & 0xE0) == 0xC0) return 2;
  if ((b & 0xF0) == 0xE0) return 3;
  if ((b & 0xF8) == 0xF0) return 4;
  return 1;
}

Key FromTilde(int n) {
  switch (n) {
    case 1:
    case 7:
      return Key::Code(KeyCode::kHome);
    case 2:
      return Key::Code(KeyCode::kInsert);
    case 3:
      return Key::Code(KeyCode::kDelete);
    case 4:
    case 8:
      return Key::Code(KeyCode::kEnd);
    case 5:
      return Key::Code(KeyCode::kPageUp);
    case 6:
      return Key::Code(KeyCode::kPageDown);
    case 11:
      return Key::Code(KeyCode::kF1);
    default:
      return Key::Code(KeyCode::kEscape);  // unknown: harmless
  }
}

bool FromFinal(char f, Key& key) {
  switch (f) {
    case 'A':
      key = Key::Code(KeyCode::kUp);
      return true;
    case 'B':
      key = Key::Code(KeyCode::kDown);
      return true;
    case 'C':
      key = Key::Code(KeyCode::kRight);
      return true;
    case 'D':
      key = Key::Code(KeyCode::kLeft);
      return true;
    case 'H':
      key = Key::Code(KeyCode::kHome);
      return true;
    case 'F':
      key = Key::Code(KeyCode::kEnd);
      return true;
    case 'Z':
      key = Key::Code(KeyCode::kBackTab);
      return true;
    case 'P':
      key = Key::Code(KeyCode::kF1);
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string KeyName(const Key& key) {
  std::string prefix = key.alt ? "M-" : "";
  switch (key.code) {
    case KeyCode::kChar: {
      if (key.ctrl) return prefix + "C-" + static_cast<char>(key.ch);
      std::string s;
      AppendUtf8(s, key.ch);
      return prefix + s;
    }
    case KeyCode::kEnter:
      return prefix + "Enter";
    case KeyCode::kEscape:
      return prefix + "Esc";
    case KeyCode::kBackspace:
      return prefix + "Backspace";
    case KeyCode::kTab:
      return prefix + "Tab";
    case KeyCode::kBackTab:
      return prefix + "BackTab";
    case KeyCode::kUp:
      return prefix + "Up";
    case KeyCode::kDown:
      return prefix + "Down";
    case KeyCode::kLeft:
      return prefix + "Left";
    case KeyCode::kRight:
      return prefix + "Right";
    case KeyCode::kHome:
      return prefix + "Home";
    case KeyCode::kEnd:
      return prefix + "End";
    case KeyCode::kPageUp:
      return prefix + "PageUp";
    case KeyCode::kPageDown:
      return prefix + "PageDown";
    case KeyCode::kInsert:
      return prefix + "Insert";
    case KeyCode::kDelete:
      return prefix + "Delete";
    case KeyCode::kF1:
      return prefix + "F1";
    case KeyCode::kModeReport:
      return "ModeReport";
  }
  return "?";
}

size_t KeyParser::ParseOne(std::string_view in, std::vector<Key>& out, bool final) {
  const auto b = static_cast<unsigned char>(in[0]);
  if (b == 0x1b) {
    if (in.size() == 1) {
      if (!final) return 0;
      out.push_back(Key::Code(KeyCode::kEscape));
      return 1;
    }
    const char kind = in[1];
    if (kind == '[' || kind == 'O') {
      // CSI: parameters and intermediates (0x20-0x3F) up to a final byte (0x40-0x7E).
      size_t i = 2;
      while (i < in.size() && static_cast<unsigned char>(in[i]) >= 0x20 &&
             static_cast<unsigned char>(in[i]) <= 0x3F) {
        ++i;
      }
      if (i >= in.size()) {
        if (!final) return 0;
        out.push_back(Key{KeyCode::kChar, static_cast<char32_t>(kind), false, true});
        return 2;  // ESC [ with nothing after it: Alt-[
      }
      const char f = in[i];
      const std::string params(in.substr(2, i - 2));
      Key key;
      if (kind == '[' && f == 'y' && params.size() > 1 && params[0] == '?' &&
          params.back() == '$') {
        // DECRPM: CSI ? mode ; status $ y
        key.code = KeyCode::kModeReport;
        key.ch = static_cast<char32_t>(std::atoi(params.c_str() + 1));
        const size_t semi = params.find(';');
        key.param = semi == std::string::npos ? 0 : std::atoi(params.c_str() + semi + 1);
        out.push_back(key);
      } else if (kind == '[' && f == '~') {
        key = FromTilde(std::atoi(params.c_str()));
        out.push_back(key);
      } else if (FromFinal(f, key)) {
        // Modifiers: CSI 1 ; m X where m-1 is a bit set (1 shift, 2 alt, 4 ctrl).
        const size_t semi = params.find(';');
        if (semi != std::string::npos) {
          const int m = std::atoi(params.c_str() + semi + 1) - 1;
          key.shift = m & 1;
          key.alt = m & 2;
          key.ctrl = m & 4;
        }
        out.push_back(key);
      }
      // Anything else (focus reports, unknown keys) is consumed and ignored.
      return i + 1;
    }
    // ESC followed by a key: Alt+key.
    std::vector<Key> inner;
    const size_t n = ParseOne(in.substr(1), inner, final);
    if (n == 0) return 0;
    for (Key& k : inner) {
      k.alt = true;
      out.push_back(k);
    }
    return n + 1;
  }
  if (b == '\r' || b == '\n') {
    out.push_back(Key::Code(KeyCode::kEnter));
    return 1;
  }
  if (b == '\t') {
    out.push_back(Key::Code(KeyCode::kTab));
    return 1;
  }
  if (b == 0x7f || b == 0x08) {
    out.push_back(Key::Code(KeyCode::kBackspace));
    return 1;
  }
  if (b == 0) {
    out.push_back(Key{KeyCode::kChar, U' ', true});
    return 1;
  }
  if (b < 0x20) {
    out.push_back(Key::Ctrl(static_cast<char>('a' + b - 1)));
    return 1;
  }
  const size_t len = Utf8Length(b);
  if (in.size() < len) {
    if (!final) return 0;
    out.push_back(Key::Char(0xFFFD));
    return in.size();
  }
  size_t pos = 0;
  out.push_back(Key::Char(DecodeUtf8(in.substr(0, len), pos)));
  return pos == 0 ? 1 : pos;
}

std::vector<Key> KeyParser::Feed(std::string_view bytes) {
  pending_.append(bytes);
  std::vector<Key> keys;
  size_t start = 0;
  while (start < pending_.size()) {
    const size_t n = ParseOne(std::string_view(pending_).substr(start), keys, false);
    if (n == 0) break;
    start += n;
  }
  pending_.erase(0, start);
  return keys;
}

std::vector<Key> KeyParser::Flush() {
  std::vector<Key> keys;
  size_t start = 0;
  while (start < pending_.size()) {
    start += ParseOne(std::string_view(pending_).substr(start), keys, true);
  }
  pending_.clear();
  return keys;
}

}  // namespace shim::tui
