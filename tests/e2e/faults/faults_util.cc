#include "e2e/faults/faults_util.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>

#include "e2e/run/run_test_util.h"
#include "nlohmann/json.hpp"
#include "support/background.h"
#include "support/subprocess.h"

namespace shim::testing {

int FdCount(pid_t pid) {
  std::error_code error;
  int count = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++count;
  }
  return error ? -1 : count;
}

long RssKib(pid_t pid) {
  std::istringstream status(ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

long CpuTicks(pid_t pid) {
  const std::string stat = ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  // After "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  long utime = -1, stime = -1;
  for (int n = 3; fields >> field; ++n) {
    if (n == 14) utime = std::atol(field.c_str());
    if (n == 15) {
      stime = std::atol(field.c_str());
      break;
    }
  }
  return utime < 0 || stime < 0 ? -1 : utime + stime;
}

namespace {

template <typename F>
void ForEachDirOfRun(const std::string& run_id, F visit) {
  for (const std::string& top : CgroupDirsOfRun(run_id)) {
    visit(std::filesystem::path(top));
    for (const std::string& dir : DirsBeneath(top)) visit(std::filesystem::path(dir));
  }
}

}  // namespace

std::vector<pid_t> ProcsOfRun(const std::string& run_id) {
  std::set<pid_t> pids;
  ForEachDirOfRun(run_id, [&](const std::filesystem::path& dir) {
    std::istringstream procs(ReadFileOrEmpty(dir / "cgroup.procs"));
    for (pid_t pid; procs >> pid;) pids.insert(pid);
  });
  return {pids.begin(), pids.end()};
}

int CgroupDirCountOfRun(const std::string& run_id) {
  int count = 0;
  ForEachDirOfRun(run_id, [&](const std::filesystem::path&) { ++count; });
  return count;
}

std::string V2DirOfRun(const std::string& run_id) {
  for (const std::string& dir : CgroupDirsOfRun(run_id)) {
    if (dir.rfind("/sys/fs/cgroup/unified/", 0) == 0) return dir;
  }
  for (const std::string& dir : CgroupDirsOfRun(run_id)) {
    // A pure v2 host: the cgroup2 mount is /sys/fs/cgroup itself.
    if (std::filesystem::exists(std::filesystem::path(dir) / "cgroup.kill")) return dir;
  }
  return "";
}

std::vector<AttachedProg> ProgsAttachedTo(const std::string& cgroup_dir) {
  CommandResult r = RunCommand({"bpftool", "-j", "cgroup", "show", cgroup_dir});
  std::vector<AttachedProg> progs;
  nlohmann::json list = nlohmann::json::parse(r.out, nullptr, false);
  if (!list.is_array()) return progs;
  for (const nlohmann::json& p : list) {
    progs.push_back({p.value("id", 0u), p.value("name", ""), p.value("attach_type", "")});
  }
  return progs;
}

bool ProgExists(uint32_t id) {
  return RunCommand({"bpftool", "prog", "show", "id", std::to_string(id)}).exit_code == 0;
}

bool FullSoak() {
  const char* scale = std::getenv("SHIM_SOAK_SCALE");
  return scale != nullptr && std::strcmp(scale, "full") == 0;
}

}  // namespace shim::testing
