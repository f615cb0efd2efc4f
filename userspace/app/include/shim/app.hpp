// C++ conveniences over shim/app.h: a typed view of an entrypoint's argv.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "shim/app.h"

namespace shim::app {

// argv of an entrypoint, with typed accessors that say what is wrong instead of crashing.
class Args {
 public:
  Args(int argc, char** argv) : words_(argv, static_cast<size_t>(argc)) {}

  size_t size() const { return words_.size(); }
  // The i-th word, or nullopt when there are fewer words.
  std::optional<std::string_view> word(size_t i) const {
    if (i >= words_.size()) return std::nullopt;
    return std::string_view(words_[i]);
  }
  // The i-th word as an open fd, or nullopt (missing, not a number, or not open).
  std::optional<int> fd(size_t i) const {
    if (i >= words_.size()) return std::nullopt;
    int fd = shim_parse_fd(words_[i]);
    if (fd < 0) return std::nullopt;
    return fd;
  }

 private:
  std::span<char*> words_;
};

}  // namespace shim::app
