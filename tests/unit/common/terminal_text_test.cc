#include "common/terminal_text.h"

#include <gtest/gtest.h>

namespace shim {
namespace {

TEST(ForTerminal, PrintableTextAndUtf8AreKept) {
  EXPECT_EQ(ForTerminal("echo-handler 42"), "echo-handler 42");
  EXPECT_EQ(ForTerminal("caf\xc3\xa9 \xe2\x94\x9c\xe2\x94\x80 \xf0\x9f\x9a\x80"),
            "caf\xc3\xa9 \xe2\x94\x9c\xe2\x94\x80 \xf0\x9f\x9a\x80");
}

TEST(ForTerminal, ControlsEscapesAndForgedLinesAreEscaped) {
  EXPECT_EQ(ForTerminal("\nshim-bpf: ok"), "\\x0ashim-bpf: ok");
  EXPECT_EQ(ForTerminal("\x1b[2J\x07\t\r\x7f"), "\\x1b[2J\\x07\\x09\\x0d\\x7f");
  EXPECT_EQ(ForTerminal(std::string("a\0b", 3)), "a\\x00b");
}

TEST(ForTerminal, C1ControlsAndInvalidUtf8AreEscaped) {
  EXPECT_EQ(ForTerminal("\xc2\x9b"
                        "2J"),
            "\\xc2\\x9b2J");                                  // CSI as U+009B
  EXPECT_EQ(ForTerminal("\x9b"), "\\x9b");                    // a lone C1 byte
  EXPECT_EQ(ForTerminal("\xc0\xaf"), "\\xc0\\xaf");           // overlong
  EXPECT_EQ(ForTerminal("\xe2\x94"), "\\xe2\\x94");           // truncated
  EXPECT_EQ(ForTerminal("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
}

TEST(ForTerminal, ABackslashCannotForgeAnEscape) { EXPECT_EQ(ForTerminal("\\x1b"), "\\\\x1b"); }

}  // namespace
}  // namespace shim
