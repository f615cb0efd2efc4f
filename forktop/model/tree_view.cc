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

std::vector<ViewRow> Flatten(const ProcessTree& tree, const ViewOptions& options) {
  // With a filter, only matches and their ancestors are shown, and collapsing is ignored on the
  // way to a match (a search must find what is hidden).
  std::unordered_set<int32_t> keep;
  std::unordered_set<int32_t> matched;
  const bool filtering = !options.filter.empty();
  if (filtering) {
    std::vector<int32_t> stack(tree.Roots().rbegin(), tree.Roots().rend());
    while (!stack.empty()) {
      const int32_t tgid = stack.back();
      stack.pop_back();
      const ProcNode* n = tree.Find(tgid);
      if (n != nullptr && Matches(*n, options.filter)) {
        matched.insert(tgid);
        for (const ProcNode* a = n; a != nullptr && keep.insert(a->tgid).second;
             a = a->ppid != 0 ? tree.Find(a->ppid) : nullptr) {
        }
      }
      for (int32_t c : tree.Children(tgid)) stack.push_back(c);
    }
  }

  auto sorted = [&](const std::vector<int32_t>& ids) {
    std::vector<int32_t> out;
    out.reserve(ids.size());
    for (int32_t id : ids) {
      if (!filtering || keep.count(id)) out.push_back(id);
    }
    auto key_less = [&](int32_t a, int32_t b) {
      const ProcNode* x = tree.Find(a);
      const ProcNode* y = tree.Find(b);
      switch (options.sort) {
        case SortKey::kPid:
          return a < b;
        case SortKey::kName: {
          const std::string nx = x->Name(), ny = y->Name();
          return nx != ny ? nx < ny : a < b;
        }
        case SortKey::kAge:  // oldest first
          return x->start_ns != y->start_ns ? x->start_ns < y->start_ns : a < b;
        case SortKey::kChildren: {  // biggest subtree first
          const int dx = tree.Descendants(a), dy = tree.Descendants(b);
          return dx != dy ? dx > dy : a < b;
        }
      }
      return a < b;
    };
    std::sort(out.begin(), out.end(), key_less);
    return out;
  };

  const Glyphs& g = options.ascii ? kAscii : kUnicode;
  std::vector<ViewRow> rows;
  struct Frame {
    int32_t tgid;
    int depth;
    std::string indent;  // the prefix for this node's children
    bool last;
  };
  std::vector<Frame> stack;
  {
    const std::vector<int32_t> roots = sorted(tree.Roots());
    for (auto it = roots.rbegin(); it != roots.rend(); ++it) stack.push_back({*it, 0, "", true});
  }
  while (!stack.empty()) {
    Frame f = std::move(stack.back());
    stack.pop_back();
    ViewRow row;
    row.tgid = f.tgid;
    row.depth = f.depth;
    if (f.depth > 0) row.prefix = f.indent + (f.last ? g.last : g.tee);
    const std::vector<int32_t> kids = sorted(tree.Children(f.tgid));
    row.has_children = !kids.empty();
    row.collapsed = row.has_children && options.collapsed.count(f.tgid) > 0 && !filtering;
    row.match = filtering ? matched.count(f.tgid) > 0 : true;
    rows.push_back(row);
    if (row.collapsed) continue;
    const std::string child_indent = f.depth > 0 ? f.indent + (f.last ? g.blank : g.pipe) : "";
    for (size_t i = kids.size(); i-- > 0;) {
      stack.push_back({kids[i], f.depth + 1, child_indent, i + 1 == kids.size()});
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
