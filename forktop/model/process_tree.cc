#include "model/process_tree.h"

#include <algorithm>

namespace shim::forktop {
namespace {

const std::vector<int32_t> kNoChildren;

}  // namespace

std::string ProcNode::Name() const {
  if (!comm.empty()) return comm;
  const size_t slash = filename.rfind('/');
  return slash == std::string::npos ? filename : filename.substr(slash + 1);
}

ProcNode& ProcessTree::Upsert(const trace::ProcessEvent& e) {
  auto it = nodes_.find(e.tgid);
  if (it != nodes_.end()) return it->second;
  ProcNode& n = nodes_[e.tgid];
  n.tgid = e.tgid;
  n.original_ppid = e.parent_tgid;
  SetParent(n, e.parent_tgid);
  n.comm = e.comm;
  n.cgroup_id = e.cgroup_id;
  n.entrypoint = e.entrypoint;
  n.start_ns = e.timestamp_ns;
  ++live_;
  return n;
}

void ProcessTree::SetParent(ProcNode& node, int32_t ppid) {
  if (auto it = kids_.find(node.ppid); it != kids_.end()) {
    it->second.erase(node.tgid);
    if (it->second.empty()) kids_.erase(it);
  }
  node.ppid = ppid;
  if (ppid != 0 && ppid != node.tgid) kids_[ppid].insert(node.tgid);
}

void ProcessTree::Orphan(int32_t parent) {
  auto it = kids_.find(parent);
  if (it == kids_.end()) return;
  const bool init_known = parent != options_.init_pid && nodes_.count(options_.init_pid) > 0;
  const std::set<int32_t> orphans = std::move(it->second);
  kids_.erase(it);
  for (int32_t tgid : orphans) {
    auto n = nodes_.find(tgid);
    if (n != nodes_.end()) SetParent(n->second, init_known ? options_.init_pid : 0);
  }
}

void ProcessTree::Remove(int32_t tgid) {
  auto it = nodes_.find(tgid);
  if (it == nodes_.end()) return;
  if (!it->second.exited) --live_;
  SetParent(it->second, 0);
  nodes_.erase(it);
  Orphan(tgid);
}

void ProcessTree::Apply(const trace::ProcessEvent& e) {
  using trace::EventKind;
  if (e.kind != EventKind::kSnapshot && e.timestamp_ns > now_ns_) now_ns_ = e.timestamp_ns;
  switch (e.kind) {
    case EventKind::kLost:
      lost_ += e.lost;
      break;
    case EventKind::kSnapshot: {
      Remove(e.tgid);  // a snapshot describes the process as it is now
      ProcNode& n = Upsert(e);
      n.from_snapshot = true;
      n.filename = e.filename;
      n.argv = e.argv;
      break;
    }
    case EventKind::kFork: {
      if (e.is_thread) {
        ProcNode& n = Upsert(e);
        if (n.exited) break;  // a late thread event of a process that already ended
        n.threads.insert(e.pid);
        ++n.threads_started;
        break;
      }
      // A pid seen again is a new process: the old one (a tombstone, or live if its exit was
      // lost) is gone.
      Remove(e.tgid);
      ProcNode& n = Upsert(e);
      // A fork copies the parent's comm and exe until the child execs.
      if (const ProcNode* parent = Find(e.parent_tgid)) {
        if (n.comm.empty()) n.comm = parent->comm;
        n.filename = parent->filename;
        n.argv = parent->argv;
        if (n.entrypoint.empty()) n.entrypoint = parent->entrypoint;
      }
      ++spawns_total_;
      recent_spawns_.push_back(e.timestamp_ns);
      break;
    }
    case EventKind::kExec: {
      ProcNode& n = Upsert(e);
      n.comm = e.comm;
      n.filename = e.filename;
      n.argv = e.argv;
      if (!e.entrypoint.empty()) n.entrypoint = e.entrypoint;
      if (e.cgroup_id != 0) n.cgroup_id = e.cgroup_id;
      ++n.execs;
      break;
    }
    case EventKind::kExit: {
      auto it = nodes_.find(e.tgid);
      if (it == nodes_.end() || it->second.exited) break;
      ProcNode& n = it->second;
      if (e.is_thread) {
        n.threads.erase(e.pid);
        break;
      }
      n.exited = true;
      n.exit_ns = e.timestamp_ns;
      n.exit_code = e.exit_code;
      n.exit_signal = e.exit_signal;
      n.threads.clear();
      --live_;
      tombstones_.insert({n.exit_ns, n.tgid});
      Orphan(e.tgid);
      break;
    }
  }
  Advance(now_ns_);
  Touch();
}

void ProcessTree::Advance(uint64_t now_ns) {
  if (now_ns > now_ns_) now_ns_ = now_ns;
  bool expired = false;
  while (!tombstones_.empty() && tombstones_.begin()->first + options_.tombstone_ns <= now_ns_) {
    const auto [exit_ns, tgid] = *tombstones_.begin();
    tombstones_.erase(tombstones_.begin());
    const ProcNode* n = Find(tgid);
    if (n != nullptr && n->exited && n->exit_ns == exit_ns) {  // not a reused pid
      Remove(tgid);
      expired = true;
    }
  }
  while (!recent_spawns_.empty() && recent_spawns_.front() + options_.rate_window_ns < now_ns_) {
    recent_spawns_.pop_front();
  }
  if (expired) Touch();
}

double ProcessTree::SpawnRate() const {
  return static_cast<double>(recent_spawns_.size()) * 1e9 /
         static_cast<double>(options_.rate_window_ns);
}

const ProcNode* ProcessTree::Find(int32_t tgid) const {
  auto it = nodes_.find(tgid);
  return it == nodes_.end() ? nullptr : &it->second;
}

size_t ProcessTree::thread_count() const {
  size_t n = 0;
  for (const auto& [tgid, node] : nodes_) n += node.threads.size();
  return n;
}

void ProcessTree::BuildIndex() const {
  if (index_valid_) return;
  children_.clear();
  roots_.clear();
  descendants_.clear();
  for (const auto& [tgid, node] : nodes_) {
    if (node.ppid != 0 && node.ppid != tgid && nodes_.count(node.ppid)) {
      children_[node.ppid].push_back(tgid);
    } else {
      roots_.push_back(tgid);
    }
  }
  for (auto& [tgid, kids] : children_) std::sort(kids.begin(), kids.end());
  std::sort(roots_.begin(), roots_.end());
  // Descendant counts, iteratively (deep chains must not overflow the stack). A parent cycle
  // (impossible from real events) would leave its members out of `roots_`; they are skipped.
  std::vector<std::pair<int32_t, bool>> stack;
  for (int32_t r : roots_) stack.push_back({r, false});
  while (!stack.empty()) {
    auto [tgid, done] = stack.back();
    stack.pop_back();
    auto kids = children_.find(tgid);
    if (!done) {
      stack.push_back({tgid, true});
      if (kids != children_.end()) {
        for (int32_t k : kids->second) stack.push_back({k, false});
      }
      continue;
    }
    int total = 0;
    if (kids != children_.end()) {
      for (int32_t k : kids->second) total += 1 + descendants_[k];
    }
    descendants_[tgid] = total;
  }
  index_valid_ = true;
}

const std::vector<int32_t>& ProcessTree::Children(int32_t tgid) const {
  BuildIndex();
  auto it = children_.find(tgid);
  return it == children_.end() ? kNoChildren : it->second;
}

const std::vector<int32_t>& ProcessTree::Roots() const {
  BuildIndex();
  return roots_;
}

int ProcessTree::Descendants(int32_t tgid) const {
  BuildIndex();
  auto it = descendants_.find(tgid);
  return it == descendants_.end() ? 0 : it->second;
}

std::string EntrypointFromCgroupPath(const std::string& path) {
  // .../shim-bpf/<run-id>/<entrypoint>[/...]
  const std::string marker = "/shim-bpf/";
  const size_t at = path.rfind(marker);
  if (at == std::string::npos) return "";
  const size_t run_end = path.find('/', at + marker.size());
  if (run_end == std::string::npos) return "";
  const size_t ep_end = path.find('/', run_end + 1);
  return path.substr(run_end + 1,
                     ep_end == std::string::npos ? std::string::npos : ep_end - run_end - 1);
}

}  // namespace shim::forktop
