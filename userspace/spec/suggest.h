// "Did you mean" suggestions for misspelt keys and names.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace shim::spec {

// The candidate closest to `word` by edit distance (case-insensitive), if it is close enough to
// be a plausible typo (at most a third of the word's length, at least 1); otherwise "".
std::string ClosestMatch(absl::string_view word, const std::vector<std::string>& candidates);

// A hint for an unknown `word`: "did you mean \"x\"?" or "expected one of: a, b, c".
std::string SuggestionHint(absl::string_view word, const std::vector<std::string>& candidates);

}  // namespace shim::spec
