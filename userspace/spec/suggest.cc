#include "spec/suggest.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace shim::spec {
namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and transpositions of
// neighbours ("tpc" -> "tcp" is one edit), ignoring case.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  auto same = [](char x, char y) {
    return absl::ascii_tolower(static_cast<unsigned char>(x)) ==
           absl::ascii_tolower(static_cast<unsigned char>(y));
  };
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + (same(a[i - 1], b[j - 1]) ? 0 : 1)});
      if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string ClosestMatch(absl::string_view word, const std::vector<std::string>& candidates) {
  if (word.size() > 256) return "";  // hostile input: keep the quadratic cost bounded
  const size_t budget = std::max<size_t>(1, word.size() / 3);
  std::string best;
  size_t best_distance = budget + 1;
  for (const std::string& candidate : candidates) {
    const size_t distance = EditDistance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string SuggestionHint(absl::string_view word, const std::vector<std::string>& candidates) {
  if (std::string match = ClosestMatch(word, candidates); !match.empty()) {
    return absl::StrCat("did you mean \"", match, "\"?");
  }
  return absl::StrCat("expected one of: ", absl::StrJoin(candidates, ", "));
}

}  // namespace shim::spec
