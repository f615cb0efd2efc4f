// UTF-8 decoding and display width, so multibyte text never corrupts the cell grid: every glyph
// is one cell (or two for East Asian wide characters), invalid bytes become U+FFFD and control
// characters are replaced (a raw ESC inside a process's argv must not reach the terminal).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace shim::tui {

// Decodes the code point at `text[pos]` and advances `pos`. Invalid or truncated sequences
// yield U+FFFD and consume one byte.
char32_t DecodeUtf8(std::string_view text, size_t& pos);

// Appends the UTF-8 encoding of `cp`.
void AppendUtf8(std::string& out, char32_t cp);

// Columns a code point takes: 0 (combining marks), 1, or 2 (wide CJK, emoji).
int CodePointWidth(char32_t cp);

// Total display width of `text` (control characters count as one: they are shown replaced).
int DisplayWidth(std::string_view text);

// A printable stand-in for control characters (C0, DEL, C1), else `cp` itself.
char32_t Printable(char32_t cp);

// Cuts `text` to at most `width` columns; when it had to cut and width > 0, the last column is
// an ellipsis.
std::string Truncate(std::string_view text, int width);

}  // namespace shim::tui
