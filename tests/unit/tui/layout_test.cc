// Layout (fixed and flexible sizes), text truncation, scrolling lists and UTF-8 on the grid.
#include <gtest/gtest.h>

#include "tui/layout.h"
#include "tui/screen.h"
#include "tui/utf8.h"

namespace shim::tui {
namespace {

TEST(LayoutTest, FixedFirstThenFlexByWeight) {
  std::vector<Element> kids;
  kids.push_back(Text("ab").Fixed(10));
  kids.push_back(Column({}).Flex(1));
  kids.push_back(Column({}).Flex(3));
  kids.push_back(Text("hello"));  // auto text in a row: its width
  EXPECT_EQ(SplitMainAxis(kids, 100, true), (std::vector<int>{10, 22, 63, 5}));
  // Too small: fixed parts are cut, flexible ones get nothing.
  EXPECT_EQ(SplitMainAxis(kids, 12, true), (std::vector<int>{10, 0, 0, 2}));
}

TEST(LayoutTest, ColumnsAndRowsDrawIntoTheirAreas) {
  Screen s(20, 4);
  Element tree = Column({
      Text("header", Style{}.Bold()),
      Row({Text("left").Fixed(8), Text("right").Flex()}).Flex(),
      Text("footer"),
  });
  Draw(tree, Rect{0, 0, 20, 4}, s);
  EXPECT_EQ(s.Lines(), (std::vector<std::string>{"header", "left    right", "", "footer"}));
  EXPECT_TRUE(s.StyleAt(0, 0).bold);
  EXPECT_FALSE(s.StyleAt(0, 1).bold);
}

TEST(LayoutTest, TextIsTruncatedWithAnEllipsis) {
  Screen s(8, 1);
  Draw(Text({Span{"abcd", {}}, Span{"efghijk", Style{}.Fg(kRed)}}), Rect{0, 0, 8, 1}, s);
  EXPECT_EQ(s.Line(0), "abcdefg\xE2\x80\xA6");
  EXPECT_EQ(s.StyleAt(7, 0).fg, kRed);
  EXPECT_EQ(Truncate("hello world", 5), "hell\xE2\x80\xA6");
  EXPECT_EQ(Truncate("hi", 5), "hi");
}

TEST(LayoutTest, ListScrollsToKeepTheSelectionVisible) {
  auto scroll = std::make_shared<int>(0);
  auto item = [](int i) { return Text("item" + std::to_string(i)); };
  Screen s(10, 3);
  Draw(List(100, 5, scroll, item), Rect{0, 0, 10, 3}, s);
  EXPECT_EQ(*scroll, 3);
  EXPECT_EQ(s.Lines(), (std::vector<std::string>{"item3", "item4", "item5"}));
  Draw(List(100, 4, scroll, item), Rect{0, 0, 10, 3}, s);  // still visible: no scroll
  EXPECT_EQ(*scroll, 3);
  Draw(List(100, 0, scroll, item), Rect{0, 0, 10, 3}, s);
  EXPECT_EQ(*scroll, 0);
  Draw(List(100, 99, scroll, item), Rect{0, 0, 10, 3}, s);
  EXPECT_EQ(*scroll, 97);
  EXPECT_EQ(ScrollOffset(50, -1, 10, 3), 7);  // clamped when the list shrank
}

TEST(Utf8Test, MultibyteAndWideTextKeepsTheGridAligned) {
  Screen s(10, 2);
  const int end = s.Put(0, 0, "h\xC3\xA9llo", {});  // é is one column
  EXPECT_EQ(end, 5);
  EXPECT_EQ(s.Line(0), "h\xC3\xA9llo");
  // A wide character takes two cells; one that would straddle the edge becomes a space.
  EXPECT_EQ(s.Put(0, 1,
                  "a\xE4\xB8\xAD"
                  "b",
                  {}),
            4);  // a 中 b
  EXPECT_EQ(s.at(1, 1).glyph, "\xE4\xB8\xAD");
  EXPECT_EQ(s.at(2, 1).glyph, "");
  EXPECT_EQ(s.at(3, 1).glyph, "b");
  EXPECT_EQ(s.Put(9, 1, "\xE4\xB8\xAD", {}), 10);
  EXPECT_EQ(s.at(9, 1).glyph, " ");
  // Overwriting half of a wide character blanks the other half.
  s.Put(2, 1, "x", {});
  EXPECT_EQ(s.at(1, 1).glyph, " ");
  // Invalid bytes and control characters never reach the grid raw.
  Screen t(10, 1);
  t.Put(0, 0,
        "a\xFF"
        "b\x1b[2Jc",
        {});
  EXPECT_EQ(t.Line(0),
            "a\xEF\xBF\xBD"
            "b?[2Jc");
  EXPECT_EQ(DisplayWidth("\xE4\xB8\xAD\xE6\x96\x87"), 4);
  EXPECT_EQ(DisplayWidth("e\xCC\x81"), 1);  // e + combining acute
}

}  // namespace
}  // namespace shim::tui
