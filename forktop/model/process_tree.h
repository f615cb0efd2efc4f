// The process tree forktop shows, built from ProcessEvents alone (no rendering, no /proc): live
// processes, exited ones kept for a while as tombstones, threads folded into their process,
// reparenting on exit, pid reuse, the spawn rate and the lost-event count.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "trace/process_event.h"

namespace shim::forktop {

struct ProcNode {
  int32_t tgid = 0;

 private:
  // The tree's shape (see the accessors below), declared right after the pid: a frame reads
  // these and the pid of every node, a walk over 10,000 nodes is bound by cache misses, and
  // with them together it misses once per node instead of twice.
  friend class ProcessTree;
  int descendants_ = 0;
  ProcNode* parent_ = nullptr;
  std::vector<const ProcNode*> children_;

 public:
  int32_t ppid = 0;           // the current parent (init, or none, after the parent exited)
  int32_t original_ppid = 0;  // the parent that forked it
  std::string comm;
  std::string filename;
  std::vector<std::string> argv;
  uint64_t cgroup_id = 0;
  std::string entrypoint;
  uint64_t start_ns = 0;
  bool from_snapshot = false;  // already running when tracing started
  bool exited = false;         // a tombstone
  uint64_t exit_ns = 0;
  int32_t exit_code = 0;
  int32_t exit_signal = 0;
  std::set<int32_t> threads;  // live threads other than the leader
  uint32_t threads_started = 0;
  uint32_t execs = 0;

  // Display name: comm, or the basename of the executable when comm is empty.
  std::string Name() const { return std::string(NameView()); }
  // The same without a copy (sorting by name compares it many times a frame).
  std::string_view NameView() const;
  uint64_t Lifetime(uint64_t now_ns) const { return (exited ? exit_ns : now_ns) - start_ns; }

  // Where the process sits in the tree, kept up to date by ProcessTree as events arrive, so a
  // frame walks the tree through pointers instead of rebuilding an index and looking pids up.
  // Children are sorted by pid.
  const ProcNode* parent() const { return parent_; }  // null for a top-level process
  const std::vector<const ProcNode*>& children() const { return children_; }
  // Number of processes below this one (transitively).
  int descendants() const { return descendants_; }
};

struct TreeOptions {
  uint64_t tombstone_ns = 10'000'000'000;   // how long exited processes stay visible
  uint64_t rate_window_ns = 5'000'000'000;  // spawn rate averaged over this window
  int32_t init_pid = 1;                     // where orphans go (if it is in the tree)
};

class ProcessTree {
 public:
  explicit ProcessTree(TreeOptions options = {}) : options_(options) {}

  void Apply(const trace::ProcessEvent& event);
  // Moves the clock to `now_ns` (monotonic, the events' clock): expires tombstones and old
  // spawns in the rate window.
  void Advance(uint64_t now_ns);

  const ProcNode* Find(int32_t tgid) const;
  // Sorted by pid.
  std::vector<int32_t> Children(int32_t tgid) const;
  std::vector<int32_t> Roots() const;
  // Number of processes below `tgid` (transitively).
  int Descendants(int32_t tgid) const;
  // The top-level processes, sorted by pid: with ProcNode::children() they walk the whole tree
  // without a lookup. Valid until the next change.
  const std::vector<const ProcNode*>& root_nodes() const { return roots_; }

  uint64_t now_ns() const { return now_ns_; }
  size_t size() const { return nodes_.size(); }
  size_t live_count() const { return live_; }
  size_t exited_count() const { return nodes_.size() - live_; }
  size_t thread_count() const { return threads_; }
  uint64_t lost() const { return lost_; }
  uint64_t spawns() const { return spawns_total_; }
  double SpawnRate() const;                      // processes forked per second over the rate window
  uint64_t version() const { return version_; }  // changes whenever the tree changes

 private:
  ProcNode& Upsert(const trace::ProcessEvent& event);
  void Remove(int32_t tgid);
  void Orphan(int32_t parent);  // moves the children of `parent` to init (or the top level)
  void Touch();                 // after every change
  void SetParent(ProcNode& node, int32_t ppid);

  // The tree's shape (ProcNode::parent_, children_, descendants_ and roots_) follows the ppids:
  // a process hangs below its parent if that is in the tree, else it is a top-level process.
  // Link places a node that is in no list, Unlink takes it out again; both update the
  // descendant counts of its ancestors, so a change costs O(depth + siblings), not O(n).
  void Link(ProcNode& node);
  void Unlink(ProcNode& node);
  // A ppid loop (impossible from real events, but a replay file can say anything) would make a
  // node its own ancestor; Link leaves such a node at the top level and remembers it here, and
  // every change retries the link, so it moves below its parent once the loop is broken.
  void RelinkRefused();

  TreeOptions options_;

  std::unordered_map<int32_t, ProcNode> nodes_;  // node-based: pointers to nodes stay valid
  // Processes by parent pid, including parents not (yet) in the tree, so exits and removals cost
  // O(children), and a parent that shows up late adopts the processes waiting for it.
  std::unordered_map<int32_t, std::set<int32_t>> kids_;
  std::vector<const ProcNode*> roots_;  // sorted by pid
  std::set<int32_t> refused_;           // top-level only because of a ppid loop
  size_t threads_ = 0;                  // sum of the nodes' thread counts
  // Tombstones by exit time (entries of replaced processes are skipped when they come up).
  std::multimap<uint64_t, int32_t> tombstones_;
  size_t live_ = 0;
  uint64_t now_ns_ = 0;
  uint64_t lost_ = 0;
  uint64_t spawns_total_ = 0;
  std::deque<uint64_t> recent_spawns_;
  uint64_t version_ = 0;
};

// The entrypoint name in a shim-bpf cgroup path ".../shim-bpf/<run-id>/<entrypoint>/...", or "".
std::string EntrypointFromCgroupPath(const std::string& path);

}  // namespace shim::forktop
