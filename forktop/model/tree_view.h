// What the tree looks like on screen, independent of any terminal: the visible rows in order
// (collapsed subtrees hidden, a filter keeping matches and their ancestors, siblings sorted),
// the tree-drawing prefix of each row, and the text formats shared by the UI and --once.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "model/process_tree.h"

namespace shim::forktop {

enum class SortKey { kPid, kName, kAge, kChildren };
const char* SortKeyName(SortKey key);
SortKey NextSortKey(SortKey key);

struct ViewOptions {
  SortKey sort = SortKey::kPid;
  std::string filter;           // case-insensitive substring of pid, name, exe or argv
  std::set<int32_t> collapsed;  // subtrees hidden under these processes
  bool ascii = false;           // "|-" and "`-" instead of box-drawing characters

  bool operator==(const ViewOptions&) const = default;
};

struct ViewRow {
  int32_t tgid = 0;
  int depth = 0;
  std::string prefix;  // tree lines before the name, e.g. "│  ├─ "
  bool has_children = false;
  bool collapsed = false;
  bool match = false;  // matches the filter (ancestors shown only for context do not)
};

std::vector<ViewRow> Flatten(const ProcessTree& tree, const ViewOptions& options);

bool Matches(const ProcNode& node, const std::string& filter);

// "1.5s", "3m02s", "2h05m", "4d03h".
std::string FormatDuration(uint64_t ns);
// "exit 0", "exit 3", "SIGKILL", "signal 77".
std::string FormatExit(const ProcNode& node);
// The command line: argv joined, or the exe when argv is unknown.
std::string CommandLine(const ProcNode& node);

// The whole tree as plain text, one process per line (for --once):
//   "    PID   AGE  COMMAND" then e.g. "    412  3.2s  ├─ bash -c make" .
std::vector<std::string> TreeText(const ProcessTree& tree, const ViewOptions& options);

}  // namespace shim::forktop
