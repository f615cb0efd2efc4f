#include "e2e/run/run_test_util.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/background.h"

namespace shim::testing {

RunFixtureDir::RunFixtureDir() {
  char pattern[] = "/tmp/shim-run-test-XXXXXX";
  path_ = mkdtemp(pattern);
  std::filesystem::permissions(path_, std::filesystem::perms::all);  // voids run as nobody
}

RunFixtureDir::~RunFixtureDir() { std::filesystem::remove_all(path_); }

std::string RunFixtureDir::WriteSpec(const std::string& entrypoints_json) const {
  const std::string spec = path_ + "/spec.json";
  std::ofstream out(spec);
  out << "{\"binary\": \"" << SHIM_WORKLOAD << "\", \"entrypoints\": {" << entrypoints_json
      << "}}";
  return spec;
}

std::vector<nlohmann::json> RunFixtureDir::Events() const {
  std::vector<nlohmann::json> events;
  std::istringstream lines(ReadFileOrEmpty(events_path()));
  for (std::string line; std::getline(lines, line);) {
    events.push_back(nlohmann::json::parse(line, nullptr, false));
  }
  return events;
}

std::vector<nlohmann::json> EventsOf(const std::vector<nlohmann::json>& events,
                                     const std::string& kind, const std::string& entrypoint) {
  std::vector<nlohmann::json> out;
  for (const nlohmann::json& e : events) {
    if (e.is_object() && e.value("event", "") == kind &&
        (entrypoint.empty() || e.value("entrypoint", "") == entrypoint)) {
      out.push_back(e);
    }
  }
  return out;
}

std::vector<std::string> CgroupDirsOfRun(const std::string& run_id) {
  std::vector<std::string> found;
  std::error_code error;
  auto options = std::filesystem::directory_options::skip_permission_denied;
  for (auto it = std::filesystem::recursive_directory_iterator("/sys/fs/cgroup", options, error);
       it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (error) break;
    if (it.depth() > 8) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(error) && it->path().filename() == run_id) {
      found.push_back(it->path());
      it.disable_recursion_pending();
    }
  }
  return found;
}

}  // namespace shim::testing
