// Helpers for the `shim-bpf run` e2e tests: a temporary folder with a spec and the workload
// binary, and the --events log as parsed JSON.
#pragma once

#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace shim::testing {

class RunFixtureDir {
 public:
  RunFixtureDir();
  ~RunFixtureDir();
  const std::string& path() const { return path_; }
  // Writes spec.json (with "binary" set to the workload binary unless the text sets one).
  std::string WriteSpec(const std::string& entrypoints_json) const;
  std::string events_path() const { return path_ + "/events.jsonl"; }
  std::vector<nlohmann::json> Events() const;

 private:
  std::string path_;
};

// Events of one kind ("spawn", "exit", ...), optionally of one entrypoint.
std::vector<nlohmann::json> EventsOf(const std::vector<nlohmann::json>& events,
                                     const std::string& kind, const std::string& entrypoint = "");

// Directories named after `run_id` anywhere beneath /sys/fs/cgroup (a run's leftovers).
std::vector<std::string> CgroupDirsOfRun(const std::string& run_id);

}  // namespace shim::testing
