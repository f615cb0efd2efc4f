// The specs of docs/recipes/ run real Debian programs unchanged: each test runs one as a user
// would (`shim-bpf run SPEC`), checks what the program did, and where a spec key is what makes
// it work, shows the failure without it.
#include <sys/stat.h>
#include <unistd.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "e2e/run/run_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/background.h"
#include "support/privileged.h"
#include "support/subprocess.h"

namespace shim::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Recipe(const std::string& name) { return absl::StrCat(RECIPES_DIR, "/", name); }

// The recipe's text with each `from` replaced by its `to` everywhere (the recipes name real
// paths and ports; tests move them into their own folder and onto free ports), written into
// `dir`.
std::string EditedRecipe(const RunFixtureDir& dir, const std::string& name,
                         const std::vector<std::pair<std::string, std::string>>& edits) {
  std::ifstream in(Recipe(name));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text = absl::StrReplaceAll(text, edits);
  const std::string path = absl::StrCat(dir.path(), "/", name);
  std::ofstream(path) << text;
  return path;
}

std::string EditedRecipe(const RunFixtureDir& dir, const std::string& name, const std::string& from,
                         const std::string& to) {
  return EditedRecipe(dir, name, {{from, to}});
}

const std::string kShim = BuiltBinary("shim-bpf");

// A folder of `dir` for the void's files, readable (and with `owned`, owned) by its host uid.
std::string VoidFolder(const RunFixtureDir& dir, const std::string& name, bool owned = false) {
  const std::string path = absl::StrCat(dir.path(), "/", name);
  std::filesystem::create_directories(path);
  chmod(dir.path().c_str(), 0755);
  chmod(path.c_str(), 0755);
  if (owned) {
    EXPECT_EQ(chown(path.c_str(), 65534, 65534), 0);
  }
  return path;
}

std::set<int> PidsOf(const std::vector<nlohmann::json>& events) {
  std::set<int> pids;
  for (const nlohmann::json& e : events) pids.insert(e["pid"].get<int>());
  return pids;
}

// python3 from Debian with its C extension modules (dlopen of .so files under an exec grant),
// literal args and an environment.
TEST(Recipes, Python3LoadsItsCExtensions) {
  SHIM_REQUIRE_PRIVILEGED();
  ASSERT_EQ(access("/usr/bin/python3", X_OK), 0) << "scripts/setup.sh installs python3";
  CommandResult r = RunCommand({BuiltBinary("shim-bpf"), "run", "-q", Recipe("python3.json")}, "",
                               std::chrono::seconds(60));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("C extensions: _json _ssl _sqlite3 _ctypes _decimal _hashlib"));
  EXPECT_THAT(r.out, HasSubstr("sqlite: 3."));
  EXPECT_THAT(r.out, HasSubstr("ctypes strlen: 5"));
  EXPECT_THAT(r.out, HasSubstr("env: LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 HOME=/"));
  EXPECT_THAT(r.out, Not(HasSubstr("SHELL")));  // nothing of the supervisor's environment

  // The control: the same grant without "exec" is noexec, and no extension loads.
  RunFixtureDir dir;
  const std::string noexec = EditedRecipe(dir, "python3.json", R"(, "exec": true)", "");
  r = RunCommand({BuiltBinary("shim-bpf"), "run", "-q", noexec}, "", std::chrono::seconds(60));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("failed to map segment from shared object"));
}

}  // namespace
}  // namespace shim::testing

namespace shim::testing {
namespace {

// A venv: python3 finds it through PATH (as activating it does) and imports from its
// site-packages.
TEST(Recipes, Python3RunsInAVirtualEnvironment) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const std::string venv = VoidFolder(dir, "venv");
  CommandResult made =
      RunCommand({"/usr/bin/python3", "-m", "venv", "--without-pip", venv}, "",
                 std::chrono::seconds(60));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  CommandResult site = RunCommand({"/usr/bin/python3", "-c",
                                   "import sysconfig, sys; print(sysconfig.get_path('purelib', "
                                   "vars={'base': sys.argv[1]}), end='')",
                                   venv});
  ASSERT_EQ(site.exit_code, 0) << site.err;
  std::filesystem::create_directories(site.out);
  std::ofstream(site.out + "/greet.py") << "def hello():\n    return 'hello from the venv'\n";
  const std::string spec = EditedRecipe(dir, "python3_venv.json", "/opt/venv", venv);
  CommandResult r = RunCommand({kShim, "run", "-q", spec}, "", std::chrono::seconds(60));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("prefix: " + venv + "\n"));
  EXPECT_THAT(r.out, HasSubstr("hello from the venv\n"));
}

// busybox httpd per connection with the built-in listener and stdio: 200 requests, 200 fresh
// voids (200 distinct pids), every one answered; no shell trampoline, no listener of our own.
TEST(Recipes, BusyboxHttpdServesEachConnectionInAFreshVoid) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const std::string www = VoidFolder(dir, "www");
  std::ofstream(www + "/index.html") << "hello from busybox\n";
  chmod((www + "/index.html").c_str(), 0644);
  const int port = FreeLoopbackPort();
  const std::string spec =
      EditedRecipe(dir, "busybox_httpd.json",
                   {{"127.0.0.1:8080", absl::StrCat("127.0.0.1:", port)}, {"/srv/www", www}});
  BackgroundProcess run({kShim, "run", "-q", "--events", dir.events_path(), spec});
  const std::string url = absl::StrCat("http://127.0.0.1:", port, "/index.html");
  ASSERT_TRUE(WaitUntil([&] {
    return RunCommand({"curl", "-s", "--max-time", "5", url}).out == "hello from busybox\n";
  })) << run.Err();
  // The readiness answers come before their voids are reaped: count from when they are.
  ASSERT_TRUE(WaitUntil([&] {
    const auto events = dir.Events();
    return EventsOf(events, "exit", "web").size() == EventsOf(events, "spawn", "web").size();
  }));
  const size_t before = EventsOf(dir.Events(), "spawn", "web").size();
  constexpr int kRequests = 200;
  std::vector<std::string> curl = {"curl", "-s", "--max-time", "60", "-w", "%{http_code}\n",
                                   "-o", "/dev/null"};
  for (int i = 1; i < kRequests; ++i) {
    curl.push_back(url);
    curl.push_back("-o");
    curl.push_back("/dev/null");
  }
  curl.push_back(url);
  CommandResult r = RunCommand(curl, "", std::chrono::seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(absl::StrReplaceAll(r.out, {{"200\n", ""}}), "") << "every answer is a 200";
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), kRequests);
  ASSERT_TRUE(WaitUntil([&] {
    return EventsOf(dir.Events(), "exit", "web").size() >= before + kRequests;
  })) << run.Err();
  auto spawns = EventsOf(dir.Events(), "spawn", "web");
  std::vector<nlohmann::json> these(spawns.begin() + static_cast<long>(before), spawns.end());
  EXPECT_EQ(these.size(), static_cast<size_t>(kRequests));
  EXPECT_EQ(PidsOf(these).size(), static_cast<size_t>(kRequests)) << "one void per connection";
  for (const nlohmann::json& e : EventsOf(dir.Events(), "exit", "web")) {
    EXPECT_EQ(e.value("exit_code", -1), 0) << e.dump();
  }
  ASSERT_TRUE(run.Signal(SIGTERM));
  EXPECT_EQ(run.Wait(std::chrono::seconds(10)), 0) << run.Err();
}

// A static file server: python3's http.server in its folder, stopped at once by SIGTERM through
// shim-init (its exit says 128+15); without "init" it ignores SIGTERM as pid 1 and is killed.
TEST(Recipes, AStaticSiteServesItsFolderAndStopsAtOnceUnderInit) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const std::string site = VoidFolder(dir, "site");
  std::ofstream(site + "/page.txt") << "a static page\n";
  chmod((site + "/page.txt").c_str(), 0644);
  for (const bool init : {true, false}) {
    const int port = FreeLoopbackPort();
    const std::string spec = EditedRecipe(
        dir, "static_site.json",
        {{"\"8000\"", absl::StrCat("\"", port, "\"")},
         {"\"port\": 8000", absl::StrCat("\"port\": ", port)},
         {"/srv/site", site},
         {"\"init\": true", init ? "\"init\": true" : "\"init\": false"}});
    std::filesystem::remove(dir.events_path());
    BackgroundProcess run({kShim, "run", "-q", "--grace", "1s", "--events", dir.events_path(),
                           spec});
    const std::string url = absl::StrCat("http://127.0.0.1:", port, "/page.txt");
    std::string body;
    ASSERT_TRUE(WaitUntil(
        [&] {
          body = RunCommand({"curl", "-s", "--max-time", "5", url}).out;
          return body == "a static page\n";
        },
        std::chrono::seconds(30)))
        << body << run.Err();
    CommandResult missing =
        RunCommand({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                    absl::StrCat("http://127.0.0.1:", port, "/../../etc/passwd")});
    EXPECT_EQ(missing.out, "404");
    ASSERT_TRUE(run.Signal(SIGTERM));
    EXPECT_EQ(run.Wait(std::chrono::seconds(15)), 0) << run.Err();
    auto exits = EventsOf(dir.Events(), "exit", "site");
    ASSERT_EQ(exits.size(), 1u);
    if (init) {
      EXPECT_EQ(exits[0].value("exit_code", -1), 128 + SIGTERM) << exits[0].dump();
    } else {
      EXPECT_EQ(exits[0].value("signal", -1), SIGKILL) << exits[0].dump();
    }
  }
}

// sqlite3 with one writable folder: the database and its journal are written there (as the
// void's host uid), and nowhere else; a folder the void cannot write is reported up front.
TEST(Recipes, Sqlite3WritesOnlyItsFolder) {
  SHIM_REQUIRE_PRIVILEGED();
  ASSERT_EQ(access("/usr/bin/sqlite3", X_OK), 0) << "scripts/setup.sh installs sqlite3";
  RunFixtureDir dir;
  const std::string data = VoidFolder(dir, "data", /*owned=*/true);
  const std::string spec = EditedRecipe(dir, "sqlite3.json", "/var/lib/app-db", data);
  CommandResult r = RunCommand({kShim, "run", "-q", spec, "--",
                                "create table t(x); insert into t values (40), (2);"
                                "select 'sum', sum(x) from t;"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "sum|42\n");
  struct stat st;
  ASSERT_EQ(stat((data + "/app.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u) << "written by the void's host uid";
  r = RunCommand({kShim, "run", "-q", spec, "--", "select count(*) from t;"});
  EXPECT_EQ(r.out, "2\n") << r.err;
  for (const char* elsewhere : {"/app2.db", "/tmp/app2.db", "/usr/lib/app2.db"}) {
    r = RunCommand({kShim, "run", "-q", spec, "--",
                    absl::StrCat("attach '", elsewhere, "' as e; create table e.t(x);")});
    EXPECT_NE(r.exit_code, 0) << elsewhere;
    EXPECT_THAT(r.err, HasSubstr("unable to open database")) << elsewhere;
  }
  // Owned by root: the run says so, with the fix, before sqlite3 fails on its own.
  ASSERT_EQ(chown(data.c_str(), 0, 0), 0);
  r = RunCommand({kShim, "run", "-q", spec, "--", "select 1;"});
  EXPECT_THAT(r.err, HasSubstr("is not writable by the void"));
  EXPECT_THAT(r.err, HasSubstr("chown 65534:65534 " + data));
}

// curl with an outbound policy: the granted address and port answer, another port of the same
// host is refused by the firewall (and reported as a denial).
TEST(Recipes, CurlReachesOnlyWhatItsPolicyGrants) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const std::string site = VoidFolder(dir, "site");
  std::ofstream(site + "/data.txt") << "granted\n";
  const int granted = FreeLoopbackPort();
  const int other = FreeLoopbackPort();
  BackgroundProcess server_a({"/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
                              "--directory", site, std::to_string(granted)});
  BackgroundProcess server_b({"/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
                              "--directory", site, std::to_string(other)});
  for (int port : {granted, other}) {
    ASSERT_TRUE(WaitUntil([&] {
      return RunCommand({"curl", "-s", absl::StrCat("http://127.0.0.1:", port, "/data.txt")})
                 .out == "granted\n";
    })) << "test server on " << port;
  }
  const std::string spec = EditedRecipe(dir, "curl.json", "[8000]", absl::StrCat("[", granted, "]"));
  CommandResult r = RunCommand({kShim, "run", "-q", spec, "--events", dir.events_path(), "--",
                                absl::StrCat("http://127.0.0.1:", granted, "/data.txt")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "granted\n");
  r = RunCommand({kShim, "run", "-q", spec, "--events", dir.events_path(), "--",
                  absl::StrCat("http://127.0.0.1:", other, "/data.txt")});
  EXPECT_EQ(r.exit_code, 7) << r.out << r.err;  // curl: "Failed to connect"
  EXPECT_EQ(r.out, "");
  auto denials = EventsOf(dir.Events(), "denial", "fetch");
  ASSERT_FALSE(denials.empty());
  EXPECT_EQ(denials.back()["port"], other);
}

}  // namespace
}  // namespace shim::testing
