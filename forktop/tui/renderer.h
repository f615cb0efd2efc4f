// Turns a new frame into the bytes that change the terminal from the previous frame: only cells
// that differ are written, the cursor is moved the cheapest way (none when the next changed cell
// follows, CUF within a row, CR LF to the next row start, else CUP), attributes are emitted only
// when they change, and with synchronized output (DEC mode 2026) the frame appears at once.
#pragma once

#include <string>

#include "tui/screen.h"

namespace shim::tui {

struct RenderStats {
  int cells_written = 0;
  size_t bytes = 0;
};

class DiffRenderer {
 public:
  // Whether to bracket each frame in CSI ?2026h / CSI ?2026l.
  void set_synchronized_output(bool on) { sync_ = on; }
  bool synchronized_output() const { return sync_; }

  // Forgets what the terminal shows (after a resize or at start): the next Render clears the
  // screen and writes every non-blank cell.
  void Invalidate() { valid_ = false; }

  // The bytes that turn the previous frame into `next` ("" when nothing changed).
  std::string Render(const Screen& next);

  const RenderStats& last_stats() const { return stats_; }
  const Screen& front() const { return front_; }

 private:
  void MoveTo(std::string& out, int x, int y);
  void SetStyle(std::string& out, const Style& style);

  Screen front_;
  bool valid_ = false;
  bool sync_ = false;
  int cur_x_ = -1;  // -1: unknown (after writing the last column the terminal may be wrapping)
  int cur_y_ = -1;
  Style cur_style_;
  RenderStats stats_;
};

// SGR sequence selecting exactly `style` (starting from a reset).
std::string SgrFor(const Style& style);

}  // namespace shim::tui
