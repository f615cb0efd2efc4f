#include "model/process_tree.h"

#include <algorithm>

namespace shim::forktop {
namespace {

bool ByPid(const ProcNode* a, const ProcNode* b) { return a->tgid < b->tgid; }

void InsertSorted(std::vector<const ProcNode*>& nodes, const ProcNode* node) {
  nodes.insert(std::lower_bound(nodes.begin(), nodes.end(), node, ByPid), node);
}

void EraseSorted(std::vector<const ProcNode*>& nodes, const ProcNode* node) {
  auto it = std::lower_bound(nodes.begin(), nodes.end(), node, ByPid);
  if (it != nodes.end() && *it == node) nodes.erase(it);
}

}  // namespace

std::string_view ProcNode::NameView() const {
  if (!comm.empty()) return comm;
  const size_t slash = filename.rfind('/');
  return slash == std::string::npos ? std::string_view(filename)
                                    : std::string_view(filename).substr(slash + 1);
}

ProcNode& ProcessTree::Upsert(const trace::ProcessEvent& e) {
  auto it = nodes_.find(e.tgid);
  if (it != nodes_.end()) return it->second;
  ProcNode& n = nodes_[e.tgid];
  n.tgid = e.tgid;
  n.original_ppid = e.parent_tgid;
  n.ppid = e.parent_tgid;
  if (n.ppid != 0 && n.ppid != n.tgid) kids_[n.ppid].insert(n.tgid);
  Link(n);
  // Processes that named this pid as their parent before it was known were top-level so far.
  if (auto waiting = kids_.find(n.tgid); waiting != kids_.end()) {
    for (int32_t tgid : waiting->second) {
      ProcNode& kid = nodes_.at(tgid);
      Unlink(kid);
      Link(kid);
    }
  }
  n.comm = e.comm;
  n.cgroup_id = e.cgroup_id;
  n.entrypoint = e.entrypoint;
  n.start_ns = e.timestamp_ns;
  ++live_;
  return n;
}

void ProcessTree::SetParent(ProcNode& node, int32_t ppid) {
  Unlink(node);
  if (auto it = kids_.find(node.ppid); it != kids_.end()) {
    it->second.erase(node.tgid);
    if (it->second.empty()) kids_.erase(it);
  }
  node.ppid = ppid;
  if (ppid != 0 && ppid != node.tgid) kids_[ppid].insert(node.tgid);
  Link(node);
}

void ProcessTree::Link(ProcNode& node) {
  ProcNode* parent = nullptr;
  if (node.ppid != 0 && node.ppid != node.tgid) {
    if (auto it = nodes_.find(node.ppid); it != nodes_.end()) parent = &it->second;
  }
  for (const ProcNode* a = parent; a != nullptr; a = a->parent_) {
    if (a == &node) {  // a ppid loop
      refused_.insert(node.tgid);
      parent = nullptr;
      break;
    }
  }
  if (parent == nullptr) {
    InsertSorted(roots_, &node);
    return;
  }
  node.parent_ = parent;
  InsertSorted(parent->children_, &node);
  for (ProcNode* a = parent; a != nullptr; a = a->parent_) a->descendants_ += 1 + node.descendants_;
}

void ProcessTree::Unlink(ProcNode& node) {
  ProcNode* parent = node.parent_;
  if (parent == nullptr) {
    EraseSorted(roots_, &node);
    refused_.erase(node.tgid);
    return;
  }
  EraseSorted(parent->children_, &node);
  for (ProcNode* a = parent; a != nullptr; a = a->parent_) a->descendants_ -= 1 + node.descendants_;
  node.parent_ = nullptr;
}

void ProcessTree::RelinkRefused() {
  const std::set<int32_t> refused = std::move(refused_);
  refused_.clear();
  for (int32_t tgid : refused) {
    ProcNode& n = nodes_.at(tgid);
    Unlink(n);
    Link(n);  // refused again while the loop lasts
  }
}

void ProcessTree::Touch() {
  ++version_;
  if (!refused_.empty()) RelinkRefused();
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
  ProcNode& n = it->second;
  if (!n.exited) --live_;
  threads_ -= n.threads.size();
  SetParent(n, 0);
  // The children leave while the node is still there, so their links never point at a freed
  // node.
  Orphan(tgid);
  Unlink(n);
  nodes_.erase(it);
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
        if (n.threads.insert(e.pid).second) ++threads_;
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
        threads_ -= n.threads.erase(e.pid);
        break;
      }
      n.exited = true;
      n.exit_ns = e.timestamp_ns;
      n.exit_code = e.exit_code;
      n.exit_signal = e.exit_signal;
      threads_ -= n.threads.size();
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

std::vector<int32_t> ProcessTree::Children(int32_t tgid) const {
  std::vector<int32_t> out;
  if (const ProcNode* n = Find(tgid)) {
    for (const ProcNode* kid : n->children_) out.push_back(kid->tgid);
  }
  return out;
}

std::vector<int32_t> ProcessTree::Roots() const {
  std::vector<int32_t> out;
  for (const ProcNode* root : roots_) out.push_back(root->tgid);
  return out;
}

int ProcessTree::Descendants(int32_t tgid) const {
  const ProcNode* n = Find(tgid);
  return n == nullptr ? 0 : n->descendants_;
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
