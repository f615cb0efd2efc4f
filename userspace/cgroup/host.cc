#include "cgroup/host.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace shim::cgroup {

namespace {

struct CgroupMount {
  bool v2 = false;
  std::string root;               // the hierarchy path mounted there ("/" unless a cgroupns/bind)
  std::string mount_point;        // as the kernel reports it, unescaped
  std::set<std::string> options;  // super options: controllers, name=..., rw, ...
};

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t j = 1; j <= 3; ++j) {
        if (s[i + j] < '0' || s[i + j] > '7') {
          ok = false;
          break;
        }
        v = v * 8 + (s[i + j] - '0');
      }
      if (ok) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::vector<CgroupMount> ParseMountinfo(const std::string& content) {
  std::vector<CgroupMount> mounts;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    // "36 25 0:31 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw"
    const size_t dash = line.find(" - ");
    if (dash == absl::string_view::npos) continue;
    std::vector<absl::string_view> head =
        absl::StrSplit(line.substr(0, dash), ' ', absl::SkipEmpty());
    std::vector<absl::string_view> tail =
        absl::StrSplit(line.substr(dash + 3), ' ', absl::SkipEmpty());
    if (head.size() < 5 || tail.size() < 3) continue;
    CgroupMount m;
    if (tail[0] == "cgroup2") {
      m.v2 = true;
    } else if (tail[0] != "cgroup") {
      continue;
    }
    m.root = Unescape(head[3]);
    m.mount_point = Unescape(head[4]);
    for (absl::string_view opt : absl::StrSplit(tail[2], ',')) m.options.emplace(opt);
    mounts.push_back(std::move(m));
  }
  return mounts;
}

// The directory of hierarchy path `path` through a mount of hierarchy root `mount_root` at
// `mount_point`, or nullopt when the mount does not show that path.
std::optional<std::string> DirThrough(const CgroupMount& m, const std::string& path) {
  if (m.root == "/") return path == "/" ? m.mount_point : m.mount_point + path;
  if (path == m.root) return m.mount_point;
  if (path.size() > m.root.size() && path.compare(0, m.root.size(), m.root) == 0 &&
      path[m.root.size()] == '/') {
    return m.mount_point + path.substr(m.root.size());
  }
  return std::nullopt;
}

std::string Prefixed(const std::string& root, const std::string& path) {
  if (root.empty() || root == "/") return path;
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  return r + path;
}

}  // namespace

const Hierarchy* Host::V1With(const std::string& controller) const {
  for (const Hierarchy& h : v1) {
    if (h.controllers.count(controller) != 0) return &h;
  }
  return nullptr;
}

absl::StatusOr<Host> DetectHost(const std::string& root, std::optional<pid_t> pid) {
  Host host;
  host.root = root;
  host.self_pid = pid.value_or(getpid());
  const std::string proc = pid ? absl::StrCat("/proc/", *pid) : std::string("/proc/self");
  ASSIGN_OR_RETURN(std::string cgroup_file, ReadFileToString(Prefixed(root, proc + "/cgroup")));
  ASSIGN_OR_RETURN(std::string mountinfo, ReadFileToString(Prefixed(root, proc + "/mountinfo")));
  const std::vector<CgroupMount> mounts = ParseMountinfo(mountinfo);

  for (absl::string_view line : absl::StrSplit(cgroup_file, '\n', absl::SkipEmpty())) {
    // "4:memory:/process_api/abc", "0::/" (v2), "9:name=systemd:/"
    std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (parts.size() != 3) continue;
    const std::string path(parts[2]);
    if (parts[0] == "0" && parts[1].empty()) {
      for (const CgroupMount& m : mounts) {
        if (!m.v2) continue;
        std::optional<std::string> dir = DirThrough(m, path);
        if (!dir) continue;
        Hierarchy h;
        h.v2 = true;
        h.mount_point = Prefixed(root, m.mount_point);
        h.own_dir = Prefixed(root, *dir);
        h.own_is_root = *dir == m.mount_point;
        host.v2 = std::move(h);
        break;
      }
      continue;
    }
    std::set<std::string> controllers;
    for (absl::string_view c : absl::StrSplit(parts[1], ',', absl::SkipEmpty())) {
      controllers.emplace(c);
    }
    if (controllers.empty()) continue;
    for (const CgroupMount& m : mounts) {
      if (m.v2) continue;
      bool all = true;
      for (const std::string& c : controllers) all = all && m.options.count(c) != 0;
      if (!all) continue;
      std::optional<std::string> dir = DirThrough(m, path);
      if (!dir) continue;
      Hierarchy h;
      for (const std::string& c : controllers) {
        if (c.rfind("name=", 0) != 0) h.controllers.insert(c);
      }
      h.mount_point = Prefixed(root, m.mount_point);
      h.own_dir = Prefixed(root, *dir);
      h.own_is_root = *dir == m.mount_point;
      host.v1.push_back(std::move(h));
      break;
    }
  }
  return host;
}

}  // namespace shim::cgroup
