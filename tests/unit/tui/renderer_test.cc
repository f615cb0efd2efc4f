// The diff renderer: the bytes reproduce the frame on a terminal, and only changed cells are
// written.
#include <gtest/gtest.h>

#include "tui/renderer.h"
#include "vt.h"

namespace shim::tui {
namespace {

Screen Sample(int w, int h) {
  Screen s(w, h);
  for (int y = 0; y < h; ++y) {
    s.Put(0, y, "row " + std::to_string(y) + " \xE2\x94\x9C\xE2\x94\x80 h\xC3\xA9llo",
          y % 2 ? Style{}.Bold().Fg(kGreen) : Style{}.Dim());
  }
  s.Put(w - 3, h - 1, "end", Style{}.Reverse().Bg(200));
  return s;
}

TEST(RendererTest, FirstFrameReproducesTheScreen) {
  DiffRenderer r;
  testing::Vt vt(40, 6);
  const Screen frame = Sample(40, 6);
  vt.Apply(r.Render(frame));
  EXPECT_EQ(vt.screen(), frame);
}

TEST(RendererTest, OnlyChangedCellsAreWritten) {
  DiffRenderer r;
  testing::Vt vt(40, 6);
  Screen frame = Sample(40, 6);
  vt.Apply(r.Render(frame));
  EXPECT_EQ(r.Render(frame), "");  // no change, no bytes
  EXPECT_EQ(r.last_stats().cells_written, 0);

  frame.Put(10, 3, "X", Style{});
  const std::string bytes = r.Render(frame);
  EXPECT_EQ(r.last_stats().cells_written, 1);
  EXPECT_EQ(bytes, "\x1b[4;11H\x1b[0mX");  // one move, one attribute change, one cell
  vt.Apply(bytes);
  EXPECT_EQ(vt.screen(), frame);

  // Two changes on one row: the second is reached with a relative move, not a CUP.
  frame.Put(2, 1, "AB", Style{}.Bold().Fg(kGreen));
  frame.Put(8, 1, "C", Style{}.Bold().Fg(kGreen));
  const std::string row = r.Render(frame);
  EXPECT_EQ(r.last_stats().cells_written, 3);
  EXPECT_EQ(row, "\x1b[2;3H\x1b[0;1;32mAB\x1b[4CC");
  vt.Apply(row);
  EXPECT_EQ(vt.screen(), frame);
}

TEST(RendererTest, SynchronizedOutputBracketsFramesAndResizeRedraws) {
  DiffRenderer r;
  r.set_synchronized_output(true);
  testing::Vt vt(20, 3);
  Screen frame(20, 3);
  frame.Put(0, 0, "hello", {});
  const std::string bytes = r.Render(frame);
  EXPECT_EQ(bytes.rfind("\x1b[?2026h", 0), 0u);
  EXPECT_EQ(bytes.substr(bytes.size() - 8), "\x1b[?2026l");
  vt.Apply(bytes);
  EXPECT_EQ(vt.screen(), frame);
  // After Invalidate (e.g. SIGWINCH) everything is drawn again.
  r.Invalidate();
  r.Render(frame);
  EXPECT_EQ(r.last_stats().cells_written, 5);
}

TEST(RendererTest, WideCharactersAndLastColumn) {
  DiffRenderer r;
  testing::Vt vt(6, 2);
  Screen frame(6, 2);
  frame.Put(0, 0,
            "ab\xE4\xB8\xAD"
            "cd",
            {});  // fills the row to the last column
  frame.Put(0, 1, "z", {});
  vt.Apply(r.Render(frame));
  EXPECT_EQ(vt.screen(), frame);
  frame.Put(2, 0, "xy", {});  // replaces the wide character with two narrow ones
  vt.Apply(r.Render(frame));
  EXPECT_EQ(vt.screen(), frame);
}

}  // namespace
}  // namespace shim::tui
