// forktop's data outside the UI: the source, the tree, pause (events are held back, not lost),
// the recorder, and cgroup names. The UI reads it and bumps its own state when it changes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/event_source.h"
#include "model/process_tree.h"

namespace shim::forktop {

class Store {
 public:
  Store(EventSource* source, TreeOptions options = {}, Recorder* recorder = nullptr)
      : source_(source), tree_(options), recorder_(recorder) {}

  // Takes what the source has, records it, and applies it unless paused.
  absl::Status Pump();
  void Apply(const trace::ProcessEvent& event);
  // Moves the tree's clock to the source's (frozen while paused).
  void Advance();
  void SetPaused(bool paused);
  bool paused() const { return paused_; }
  size_t held_back() const { return held_.size(); }

  const ProcessTree& tree() const { return tree_; }
  EventSource* source() const { return source_; }
  uint64_t version() const { return tree_.version() * 2 + (paused_ ? 1 : 0); }

  // The cgroup v2 path of an id ("" if unknown); set by main for live mode.
  std::function<std::string(uint64_t)> cgroup_path;
  std::string scope = "all processes";

 private:
  EventSource* source_;
  ProcessTree tree_;
  Recorder* recorder_;
  bool paused_ = false;
  std::vector<trace::ProcessEvent> held_;
};

// Maps cgroup v2 ids (directory inode numbers) to paths below the cgroup2 mount, rescanning the
// hierarchy at most every two seconds on a miss.
class CgroupNames {
 public:
  explicit CgroupNames(std::string mount) : mount_(std::move(mount)) {}
  std::string PathOf(uint64_t id);

 private:
  void Rescan();
  std::string mount_;
  std::unordered_map<uint64_t, std::string> paths_;
  uint64_t last_scan_ns_ = 0;
};

}  // namespace shim::forktop
