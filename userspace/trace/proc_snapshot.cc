#include "trace/proc_snapshot.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cgroup/cgroup2.h"
#include "common/errno_status.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "trace/event_decode.h"

namespace shim::trace {

absl::StatusOr<ProcStat> ParseProcStat(absl::string_view stat) {
  const size_t open = stat.find('(');
  const size_t close = stat.rfind(')');
  if (open == absl::string_view::npos || close == absl::string_view::npos || close < open) {
    return absl::InvalidArgumentError("stat has no (comm)");
  }
  ProcStat out;
  if (!absl::SimpleAtoi(stat.substr(0, open), &out.pid)) {
    return absl::InvalidArgumentError("stat has no pid");
  }
  out.comm = std::string(stat.substr(open + 1, close - open - 1));
  // After ") ": field 3 (state) is index 0, ppid (4) index 1, starttime (22) index 19.
  const std::string rest(stat.substr(std::min(stat.size(), close + 2)));
  std::vector<absl::string_view> fields = absl::StrSplit(rest, ' ', absl::SkipEmpty());
  if (fields.size() < 20 || !absl::SimpleAtoi(fields[1], &out.ppid) ||
      !absl::SimpleAtoi(fields[19], &out.start_ticks)) {
    return absl::InvalidArgumentError("stat is too short or malformed");
  }
  return out;
}

absl::StatusOr<std::string> ParseCgroup2Path(absl::string_view proc_cgroup) {
  for (absl::string_view line : absl::StrSplit(proc_cgroup, '\n')) {
    if (absl::StartsWith(line, "0::")) return std::string(line.substr(3));
  }
  return absl::NotFoundError("no cgroup v2 (0::) line");
}

std::vector<ProcessEvent> OrderParentsFirst(std::vector<ProcessEvent> events) {
  std::unordered_set<int32_t> present;
  for (const ProcessEvent& e : events) present.insert(e.tgid);
  std::map<int32_t, std::vector<size_t>> children;  // ppid -> indexes, pid order below
  std::vector<size_t> roots;
  std::sort(events.begin(), events.end(),
            [](const ProcessEvent& a, const ProcessEvent& b) { return a.tgid < b.tgid; });
  for (size_t i = 0; i < events.size(); ++i) {
    const ProcessEvent& e = events[i];
    if (e.parent_tgid != e.tgid && present.count(e.parent_tgid) != 0) {
      children[e.parent_tgid].push_back(i);
    } else {
      roots.push_back(i);
    }
  }
  std::vector<ProcessEvent> ordered;
  ordered.reserve(events.size());
  // Iterative depth-first walk (a deep chain must not overflow the stack).
  std::vector<size_t> stack(roots.rbegin(), roots.rend());
  while (!stack.empty()) {
    const size_t i = stack.back();
    stack.pop_back();
    ordered.push_back(events[i]);
    auto it = children.find(events[i].tgid);
    if (it != children.end()) stack.insert(stack.end(), it->second.rbegin(), it->second.rend());
  }
  return ordered;
}

namespace {

// Reads one /proc/PID; NotFound when the process has gone meanwhile.
absl::StatusOr<ProcessEvent> ReadProcess(int32_t pid, bool have_cgroup2,
                                         const std::string& cgroup2_mount,
                                         std::unordered_map<std::string, uint64_t>& cgroup_ids,
                                         std::string& cgroup_path) {
  const std::string dir = absl::StrCat("/proc/", pid);
  ASSIGN_OR_RETURN(std::string stat_text, ReadFileToString(dir + "/stat", 1 << 16));
  ASSIGN_OR_RETURN(ProcStat stat, ParseProcStat(stat_text));
  ProcessEvent event;
  event.kind = EventKind::kSnapshot;
  event.pid = event.tgid = stat.pid;
  event.parent_tgid = stat.ppid;
  event.comm = stat.comm;
  static const long ticks_per_second = sysconf(_SC_CLK_TCK);
  event.timestamp_ns = stat.start_ticks * (1000000000ull / static_cast<uint64_t>(ticks_per_second));
  // The rest is best effort: kernel threads have no cmdline or exe, and other users' exe links
  // may be unreadable without privilege.
  if (absl::StatusOr<std::string> cmdline = ReadFileToString(dir + "/cmdline", 1 << 16);
      cmdline.ok()) {
    event.argv = SplitArgs(cmdline->data(), cmdline->size());
  }
  char exe[4096];
  if (ssize_t n = readlink((dir + "/exe").c_str(), exe, sizeof(exe)); n > 0) {
    event.filename.assign(exe, static_cast<size_t>(n));
  }
  cgroup_path.clear();
  if (!have_cgroup2) return event;  // no cgroup2 mounted: ids stay 0
  if (absl::StatusOr<std::string> cg = ReadFileToString(dir + "/cgroup", 1 << 16); cg.ok()) {
    if (absl::StatusOr<std::string> path = ParseCgroup2Path(*cg); path.ok()) {
      cgroup_path = *path;
      auto it = cgroup_ids.find(cgroup_path);
      if (it == cgroup_ids.end()) {
        absl::StatusOr<uint64_t> id = CgroupIdOf(cgroup2_mount + cgroup_path);
        it = cgroup_ids.emplace(cgroup_path, id.ok() ? *id : 0).first;
      }
      event.cgroup_id = it->second;
    }
  }
  return event;
}

// Whether the cgroup at `path` (relative to the v2 mount) is `target` or beneath it.
bool CgroupWithin(std::string path, uint64_t target, const std::string& mount,
                  std::unordered_map<std::string, uint64_t>& cgroup_ids) {
  while (true) {
    auto it = cgroup_ids.find(path);
    if (it == cgroup_ids.end()) {
      absl::StatusOr<uint64_t> id = CgroupIdOf(mount + path);
      it = cgroup_ids.emplace(path, id.ok() ? *id : 0).first;
    }
    if (it->second == target) return true;
    if (path.empty() || path == "/") return false;
    const size_t slash = path.rfind('/');
    path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
  }
}

}  // namespace

absl::StatusOr<std::vector<ProcessEvent>> SnapshotProcesses(const Scope& scope) {
  // Without a cgroup2 mount only the cgroup scope is impossible; the others report id 0.
  absl::StatusOr<std::string> found = FindCgroup2Mount();
  if (!found.ok() && scope.kind == Scope::kCgroup) return found.status();
  std::string mount = found.ok() ? *found : "";
  if (mount == "/") mount.clear();  // paths from /proc/PID/cgroup start with '/'
  std::unordered_map<std::string, uint64_t> cgroup_ids;
  std::vector<ProcessEvent> events;

  DIR* proc = opendir("/proc");
  if (proc == nullptr) return ErrnoStatus("open /proc");
  std::string cgroup_path;
  while (dirent* entry = readdir(proc)) {
    int32_t pid = 0;
    // Only numeric entries are processes; /proc lists thread-group leaders, not threads.
    if (!absl::SimpleAtoi(entry->d_name, &pid) || pid <= 0) continue;
    absl::StatusOr<ProcessEvent> event =
        ReadProcess(pid, found.ok(), mount, cgroup_ids, cgroup_path);
    if (!event.ok()) continue;  // it exited while we looked
    if (scope.kind == Scope::kCgroup &&
        !CgroupWithin(cgroup_path, scope.cgroup_id, mount, cgroup_ids)) {
      continue;
    }
    events.push_back(*std::move(event));
  }
  closedir(proc);

  if (scope.kind == Scope::kSubtree) {
    std::unordered_map<int32_t, std::vector<int32_t>> children;
    std::unordered_map<int32_t, size_t> index;
    for (size_t i = 0; i < events.size(); ++i) {
      children[events[i].parent_tgid].push_back(events[i].tgid);
      index[events[i].tgid] = i;
    }
    std::vector<ProcessEvent> subtree;
    std::vector<int32_t> stack;
    if (index.count(scope.root_pid) != 0) stack.push_back(scope.root_pid);
    while (!stack.empty()) {
      const int32_t pid = stack.back();
      stack.pop_back();
      subtree.push_back(events[index[pid]]);
      for (int32_t child : children[pid]) stack.push_back(child);
    }
    events = std::move(subtree);
  }
  return OrderParentsFirst(std::move(events));
}

}  // namespace shim::trace
