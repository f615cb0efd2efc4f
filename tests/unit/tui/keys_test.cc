// Key parsing: escape sequences, control keys, UTF-8, and sequences split across reads.
#include <gtest/gtest.h>

#include "tui/keys.h"

namespace shim::tui {
namespace {

std::vector<std::string> Names(const std::vector<Key>& keys) {
  std::vector<std::string> out;
  for (const Key& k : keys) out.push_back(KeyName(k));
  return out;
}

TEST(KeysTest, ParsesCommonSequences) {
  KeyParser p;
  EXPECT_EQ(Names(p.Feed("\x1b[A\x1b[B\x1b[C\x1b[D\x1bOA\x1b[H\x1b[F\x1b[1~\x1b[4~\x1b[5~\x1b[6~"
                         "\x1b[3~\r\x7f\t\x1b[Z")),
            (std::vector<std::string>{"Up", "Down", "Right", "Left", "Up", "Home", "End", "Home",
                                      "End", "PageUp", "PageDown", "Delete", "Enter", "Backspace",
                                      "Tab", "BackTab"}));
  EXPECT_FALSE(p.has_pending());
  EXPECT_EQ(Names(p.Feed("\x03\x01q/")), (std::vector<std::string>{"C-c", "C-a", "q", "/"}));
  const auto mod = p.Feed("\x1b[1;5A");
  ASSERT_EQ(mod.size(), 1u);
  EXPECT_EQ(mod[0].code, KeyCode::kUp);
  EXPECT_TRUE(mod[0].ctrl);
  EXPECT_EQ(Names(p.Feed("\x1bx")), (std::vector<std::string>{"M-x"}));
}

TEST(KeysTest, SplitSequencesWaitForTheirRest) {
  KeyParser p;
  EXPECT_TRUE(p.Feed("\x1b").empty());
  EXPECT_TRUE(p.has_pending());
  EXPECT_TRUE(p.Feed("[").empty());
  EXPECT_TRUE(p.Feed("6").empty());
  EXPECT_EQ(Names(p.Feed("~j")), (std::vector<std::string>{"PageDown", "j"}));
  // A UTF-8 character split in the middle.
  EXPECT_TRUE(p.Feed("\xC3").empty());
  EXPECT_EQ(Names(p.Feed("\xA9")), (std::vector<std::string>{"\xC3\xA9"}));
  EXPECT_TRUE(p.Feed("\xE4\xB8").empty());
  EXPECT_EQ(Names(p.Feed("\xAD")), (std::vector<std::string>{"\xE4\xB8\xAD"}));
}

TEST(KeysTest, LoneEscapeIsEscapeAfterFlush) {
  KeyParser p;
  EXPECT_TRUE(p.Feed("\x1b").empty());
  EXPECT_EQ(Names(p.Flush()), (std::vector<std::string>{"Esc"}));
  EXPECT_FALSE(p.has_pending());
}

TEST(KeysTest, ModeReportIsRecognised) {
  KeyParser p;
  const auto keys = p.Feed("\x1b[?2026;2$y");
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].code, KeyCode::kModeReport);
  EXPECT_EQ(keys[0].ch, 2026u);
  EXPECT_EQ(keys[0].param, 2);
}

}  // namespace
}  // namespace shim::tui
