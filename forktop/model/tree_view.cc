#include "model/tree_view.h"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <unordered_set>

namespace shim::forktop {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Glyphs {
  const char* tee;
  const char* last;
  const char* pipe;
  const char* blank;
};

constexpr Glyphs kUnicode = {"\xE2\x94\x9C\xE2\x94\x80 ", "\xE2\x94\x94\xE2\x94\x80 ",
                             "\xE2\x94\x82  ", "   "};
constexpr Glyphs kAscii = {"|- ", "`- ", "|  ", "   "};

}  // namespace

const char* SortKeyName(SortKey key) {
  switch (key) {
    case SortKey::kPid:
      return "pid";
    case SortKey::kName:
      return "name";
    case SortKey::kAge:
      return "age";
    case SortKey::kChildren:
      return "children";
  }
  return "pid";
}

SortKey NextSortKey(SortKey key) { return static_cast<SortKey>((static_cast<int>(key) + 1) % 4); }

bool Matches(const ProcNode& node, const std::string& filter) {
  if (filter.empty()) return true;
  const std::string f = Lower(filter);
  if (std::to_string(node.tgid).find(f) != std::string::npos) return true;
  if (Lower(node.Name()).find(f) != std::string::npos) return true;
  if (Lower(node.filename).find(f) != std::string::npos) return true;
  if (Lower(node.entrypoint).find(f) != std::string::npos) return true;
  for (const std::string& arg : node.argv) {
    if (Lower(arg).find(f) != std::string::npos) return true;
  }
  return false;
}

namespace {

// Siblings in display order, kept (with a filter) to the processes on the way to a match. Reads
// only the nodes, never the tree's index by pid: this runs for every process every frame.
class SiblingOrder {
 public:
  SiblingOrder(const ViewOptions& options, const std::unordered_set<const ProcNode*>* keep)
      : sort_(options.sort), keep_(keep) {}

  // `nodes` (sorted by pid) in display order; valid until the next call.
  const std::vector<const ProcNode*>& Order(const std::vector<const ProcNode*>& nodes) {
    if (sort_ == SortKey::kPid && keep_ == nullptr) return nodes;  // already in order
    scratch_.clear();
    for (const ProcNode* n : nodes) {
      if (keep_ == nullptr || keep_->count(n) > 0) scratch_.push_back(n);
    }
    std::sort(scratch_.begin(), scratch_.end(),
              [this](const ProcNode* x, const ProcNode* y) { return Before(*x, *y); });
    return scratch_;
  }

 private:
  // By the sort key, ties by pid.
  bool Before(const ProcNode& x, const ProcNode& y) const {
    switch (sort_) {
      case SortKey::kPid:
        break;
      case SortKey::kName:
        if (x.NameView() != y.NameView()) return x.NameView() < y.NameView();
        break;
      case SortKey::kAge:  // oldest first
        if (x.start_ns != y.start_ns) return x.start_ns < y.start_ns;
        break;
      case SortKey::kChildren:  // biggest subtree first
        if (x.descendants() != y.descendants()) return x.descendants() > y.descendants();
        break;
    }
    return x.tgid < y.tgid;
  }

  SortKey sort_;
  const std::unordered_set<const ProcNode*>* keep_;
  std::vector<const ProcNode*> scratch_;
};

// The processes a filter shows: its matches and their ancestors.
struct FilterResult {
  std::unordered_set<const ProcNode*> keep;
  std::unordered_set<const ProcNode*> matched;
};

FilterResult ApplyFilter(const ProcessTree& tree, const std::string& filter) {
  FilterResult result;
  std::vector<const ProcNode*> stack(tree.root_nodes().rbegin(), tree.root_nodes().rend());
  while (!stack.empty()) {
    const ProcNode* n = stack.back();
    stack.pop_back();
    if (Matches(*n, filter)) {
      result.matched.insert(n);
      for (const ProcNode* a = n; a != nullptr && result.keep.insert(a).second; a = a->parent()) {
      }
    }
    stack.insert(stack.end(), n->children().rbegin(), n->children().rend());
  }
  return result;
}

}  // namespace

std::vector<ViewRow> Flatten(const ProcessTree& tree, const ViewOptions& options) {
  // With a filter, only matches and their ancestors are shown, and collapsing is ignored on the
  // way to a match (a search must find what is hidden).
  const bool filtering = !options.filter.empty();
  FilterResult filter;
  if (filtering) filter = ApplyFilter(tree, options.filter);
  SiblingOrder order(options, filtering ? &filter.keep : nullptr);

  const Glyphs& g = options.ascii ? kAscii : kUnicode;
  std::vector<ViewRow> rows;
  rows.reserve(tree.size());
  struct Frame {
    const ProcNode* node;
    int depth;
    bool last;  // the last of its siblings
  };
  std::vector<Frame> stack;
  {
    const std::vector<const ProcNode*>& roots = order.Order(tree.root_nodes());
    for (auto it = roots.rbegin(); it != roots.rend(); ++it) stack.push_back({*it, 0, true});
  }
  // open[d]: the ancestor at depth d has siblings below it, so its column continues ("│").
  // A depth-first walk visits a node right after its ancestors, so open[1..depth-1] are its own
  // ancestors' when it comes up.
  std::vector<bool> open;
  while (!stack.empty()) {
    const Frame f = stack.back();
    stack.pop_back();
    ViewRow row;
    row.tgid = f.node->tgid;
    row.depth = f.depth;
    if (f.depth > 0) {
      for (int d = 1; d < f.depth; ++d) row.prefix += open[d] ? g.pipe : g.blank;
      row.prefix += f.last ? g.last : g.tee;
    }
    open.resize(f.depth + 1);
    open[f.depth] = !f.last;
    const std::vector<const ProcNode*>& kids = order.Order(f.node->children());
    row.has_children = !kids.empty();
    row.collapsed = row.has_children && !filtering && options.collapsed.count(row.tgid) > 0;
    row.match = filtering ? filter.matched.count(f.node) > 0 : true;
    rows.push_back(std::move(row));
    if (rows.back().collapsed) continue;
    for (size_t i = kids.size(); i-- > 0;) {
      // The walk is bound by cache misses on nodes it has not read yet: ask for the children
      // now, so their misses overlap instead of coming one by one as they are popped.
      __builtin_prefetch(kids[i]);
      stack.push_back({kids[i], f.depth + 1, i + 1 == kids.size()});
    }
  }
  return rows;
}

std::string FormatDuration(uint64_t ns) {
  const uint64_t ms = ns / 1'000'000;
  char buf[32];
  if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
  } else if (ms < 3'600'000) {
    std::snprintf(buf, sizeof buf, "%lum%02lus", static_cast<unsigned long>(ms / 60'000),
                  static_cast<unsigned long>(ms / 1000 % 60));
  } else if (ms < 86'400'000) {
    std::snprintf(buf, sizeof buf, "%luh%02lum", static_cast<unsigned long>(ms / 3'600'000),
                  static_cast<unsigned long>(ms / 60'000 % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lud%02luh", static_cast<unsigned long>(ms / 86'400'000),
                  static_cast<unsigned long>(ms / 3'600'000 % 24));
  }
  return buf;
}

std::string FormatExit(const ProcNode& node) {
  if (!node.exited) return "";
  if (node.exit_signal != 0) {
    const char* abbrev = sigabbrev_np(node.exit_signal);
    return abbrev != nullptr ? std::string("SIG") + abbrev
                             : "signal " + std::to_string(node.exit_signal);
  }
  return "exit " + std::to_string(node.exit_code);
}

std::string CommandLine(const ProcNode& node) {
  if (node.argv.empty()) return node.filename.empty() ? node.Name() : node.filename;
  std::string out;
  for (const std::string& a : node.argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

std::vector<std::string> TreeText(const ProcessTree& tree, const ViewOptions& options) {
  std::vector<std::string> lines;
  lines.push_back("    PID     AGE  COMMAND");
  const uint64_t now = tree.now_ns();
  for (const ViewRow& row : Flatten(tree, options)) {
    const ProcNode* n = tree.Find(row.tgid);
    char head[32];
    std::snprintf(head, sizeof head, "%7d %7s  ", n->tgid,
                  FormatDuration(n->Lifetime(now)).c_str());
    std::string line = head + row.prefix + n->Name();
    if (!n->entrypoint.empty()) line += " [" + n->entrypoint + "]";
    const std::string cmd = CommandLine(*n);
    if (cmd != n->Name()) line += "  " + cmd;
    if (!n->threads.empty()) line += "  {" + std::to_string(n->threads.size()) + " threads}";
    if (row.collapsed) line += "  (+" + std::to_string(tree.Descendants(row.tgid)) + ")";
    if (n->exited) line += "  <" + FormatExit(*n) + ">";
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace shim::forktop
