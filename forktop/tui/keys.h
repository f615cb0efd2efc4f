// Keyboard input: a parser from terminal bytes to key events. Escape sequences may arrive split
// across reads, so the parser keeps an incomplete tail until the next Feed; a lone ESC is only
// known to be the Esc key when no more bytes follow, which the loop signals with Flush().
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace shim::tui {

enum class KeyCode {
  kChar,  // `ch` holds the code point (ctrl-letters are kChar with ctrl = true)
  kEnter,
  kEscape,
  kBackspace,
  kTab,
  kBackTab,
  kUp,
  kDown,
  kLeft,
  kRight,
  kHome,
  kEnd,
  kPageUp,
  kPageDown,
  kInsert,
  kDelete,
  kF1,
  kModeReport,  // not a key: a DECRPM reply (`ch` = mode, `param` = status), see terminal.h
};

struct Key {
  KeyCode code = KeyCode::kChar;
  char32_t ch = 0;
  bool ctrl = false;
  bool alt = false;
  bool shift = false;
  int param = 0;

  static Key Char(char32_t c) { return Key{KeyCode::kChar, c}; }
  static Key Ctrl(char c) { return Key{KeyCode::kChar, static_cast<char32_t>(c), true}; }
  static Key Code(KeyCode code) { return Key{code}; }

  bool Is(char32_t c) const { return code == KeyCode::kChar && ch == c && !ctrl && !alt; }
  bool IsCtrl(char c) const { return code == KeyCode::kChar && ctrl && ch == char32_t(c); }
  bool operator==(const Key&) const = default;
};

std::string KeyName(const Key& key);  // "Up", "C-c", "a", "M-x", ... for tests and help

class KeyParser {
 public:
  // Parses as much of `bytes` (appended to any pending tail) as forms complete keys.
  std::vector<Key> Feed(std::string_view bytes);
  // No more bytes are coming soon: a pending ESC (and whatever followed it) is taken literally.
  std::vector<Key> Flush();
  bool has_pending() const { return !pending_.empty(); }

 private:
  // Parses one key at the front of `pending_`; returns bytes consumed, 0 if incomplete.
  size_t ParseOne(std::string_view in, std::vector<Key>& out, bool final);

  std::string pending_;
};

}  // namespace shim::tui
