#include "e2e/run/run_test_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_replace.h"
#include "support/background.h"
#include "support/subprocess.h"

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
  out << "{\"binary\": \"" << SHIM_WORKLOAD << "\", \"entrypoints\": {" << entrypoints_json << "}}";
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

namespace {

// Visits every directory beneath `dir` (not `dir` itself) up to `depth` levels, tolerating
// directories that vanish meanwhile: other runs create and remove cgroups all the time, and a
// std::filesystem iterator ends the whole walk at the first such race.
template <typename F>
void WalkDirs(const std::string& dir, int depth, const F& visit) {
  if (depth < 0) return;
  DIR* stream = opendir(dir.c_str());
  if (stream == nullptr) return;
  std::vector<std::string> children;
  while (dirent* entry = readdir(stream)) {
    const std::string name = entry->d_name;
    if (entry->d_type == DT_DIR && name != "." && name != "..") children.push_back(name);
  }
  closedir(stream);
  for (const std::string& name : children) {
    const std::string path = dir + "/" + name;
    if (visit(path, name)) WalkDirs(path, depth - 1, visit);
  }
}

}  // namespace

std::vector<std::string> DirsBeneath(const std::string& dir, int depth) {
  std::vector<std::string> dirs;
  WalkDirs(dir, depth, [&](const std::string& path, const std::string&) {
    dirs.push_back(path);
    return true;
  });
  return dirs;
}

std::vector<std::string> CgroupDirsOfRun(const std::string& run_id) {
  std::vector<std::string> found;
  WalkDirs("/sys/fs/cgroup", 8, [&](const std::string& path, const std::string& name) {
    if (name != run_id) return true;
    found.push_back(path);
    return false;  // the run's own subtree is not searched for more runs
  });
  return found;
}

std::string RunIdOf(const std::vector<nlohmann::json>& events) {
  auto start = EventsOf(events, "run_start");
  return start.empty() ? "" : start[0].value("run_id", "");
}

std::string EchoOnce(int port, const std::string& message) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    close(fd);
    return "connect failed: " + std::string(strerror(error));
  }
  (void)!write(fd, message.data(), message.size());
  shutdown(fd, SHUT_WR);
  std::string reply;
  char buffer[4096];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) reply.append(buffer, n);
  close(fd);
  return reply;
}

std::string EchoSpecText(int port) {
  std::string spec = ReadFileOrEmpty(BuiltBinary("examples/echo/spec.json"));
  // (absl, not std::regex: GCC 12 warns falsely inside <regex> under the sanitizers.)
  absl::StrReplaceAll({{"127.0.0.1:8080", "127.0.0.1:" + std::to_string(port)},
                       {"\"binary\": \"echo\"",
                        "\"binary\": \"" + BuiltBinary("examples/echo/echo") + "\""}},
                      &spec);
  return spec;
}

EchoServer::EchoServer(const RunFixtureDir& dir, const std::vector<std::string>& wrapper)
    : port_(FreeLoopbackPort()) {
  const std::string path = dir.path() + "/echo.json";
  std::ofstream(path) << EchoSpecText(port_);
  std::vector<std::string> argv = wrapper;
  for (const std::string& word :
       {BuiltBinary("shim-bpf"), std::string("run"), std::string("-q"), path,
        std::string("--grace"), std::string("2s"), std::string("--events"), dir.events_path()}) {
    argv.push_back(word);
  }
  run_ = std::make_unique<BackgroundProcess>(argv);
  WaitUntil([&] { return EchoOnce(port_, "ping") == "ping"; });
}

}  // namespace shim::testing
