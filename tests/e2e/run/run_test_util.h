// Helpers for the `shim-bpf run` e2e tests: a temporary folder with a spec and the workload
// binary, and the --events log as parsed JSON.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "support/background.h"

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

// Every directory beneath `dir`, at most `depth` levels down; directories that vanish during the
// walk are skipped (cgroups come and go all the time).
std::vector<std::string> DirsBeneath(const std::string& dir, int depth = 16);

// Directories named after `run_id` anywhere beneath /sys/fs/cgroup (a run's leftovers).
std::vector<std::string> CgroupDirsOfRun(const std::string& run_id);

// The run id of the run_start event ("" if there is none).
std::string RunIdOf(const std::vector<nlohmann::json>& events);

// One TCP round trip to 127.0.0.1:port: sends `message`, half-closes, reads until EOF (10 s
// receive timeout). Returns the reply, or "connect failed: ..." when the connection is refused.
std::string EchoOnce(int port, const std::string& message);

// The echo example's spec.json, listening on 127.0.0.1:port, with the built echo binary.
std::string EchoSpecText(int port);

// The echo example under `shim-bpf run -q --grace 2s --events <dir's events>` in the background,
// on a free loopback port; the constructor waits (up to 10 s) until a ping is echoed. `wrapper`
// is put before the shim-bpf command line (e.g. {"prlimit", "--nofile=64:64"}).
class EchoServer {
 public:
  explicit EchoServer(const RunFixtureDir& dir, const std::vector<std::string>& wrapper = {});
  int port() const { return port_; }
  BackgroundProcess& run() { return *run_; }

 private:
  int port_;
  std::unique_ptr<BackgroundProcess> run_;
};

}  // namespace shim::testing
