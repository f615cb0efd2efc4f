// The in-memory backend: drives a Runtime without a terminal. Tests (and forktop's own tests)
// render into a Screen of any size, inject keys or raw bytes, and read text and attributes back.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tui/keys.h"
#include "tui/runtime.h"

namespace shim::tui {

class MemoryTerminal {
 public:
  MemoryTerminal(Element root, int width, int height)
      : runtime_(std::move(root)), width_(width), height_(height) {}

  // Renders a frame if anything changed (like the loop's frame clock); returns whether it did.
  bool Tick() {
    if (!runtime_.dirty()) return false;
    runtime_.Frame(width_, height_);
    return true;
  }
  void Resize(int width, int height) {
    width_ = width;
    height_ = height;
    runtime_.MarkDirty();
  }
  // Dispatches one key and renders the resulting frame.
  bool Press(const Key& key) {
    const bool handled = runtime_.DispatchKey(key);
    Tick();
    return handled;
  }
  // Parses raw terminal bytes (escape sequences included) as the loop would, then renders.
  void Input(std::string_view bytes) {
    // Like the loop: state is rendered between keys so each key sees the previous one's effect.
    for (const Key& key : parser_.Feed(bytes)) Press(key);
    for (const Key& key : parser_.Flush()) Press(key);
  }
  void Type(std::string_view text) {
    for (char c : text) Press(Key::Char(static_cast<unsigned char>(c)));
  }

  const Screen& screen() const { return runtime_.screen(); }
  std::vector<std::string> Lines() const { return runtime_.screen().Lines(); }
  std::string Text() const {
    std::string all;
    for (const std::string& line : Lines()) all += line + "\n";
    return all;
  }
  Runtime& runtime() { return runtime_; }

 private:
  Runtime runtime_;
  KeyParser parser_;
  int width_;
  int height_;
};

}  // namespace shim::tui
