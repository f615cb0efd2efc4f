// The escape battery of tests/e2e/void/escape_probe.c, run the way users run things: as an
// entrypoint of a spec under `shim-bpf run`, with the supervisor as the process to attack and an
// fd the supervisor inherited (not granted) as the fd to reach.
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "e2e/run/run_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/privileged.h"
#include "support/setuid_binary.h"
#include "support/subprocess.h"

namespace shim::testing {
namespace {

class RunEscape : public ::testing::TestWithParam<bool> {};

TEST_P(RunEscape, ProbeFindsNoWayOutOfARunVoid) {
  SHIM_REQUIRE_PRIVILEGED();
  const bool procfs = GetParam();
  RunFixtureDir dir;
  const std::string ro = dir.path() + "/ro";
  const std::string rw = dir.path() + "/rw";
  ASSERT_EQ(mkdir(ro.c_str(), 0755), 0);
  ASSERT_EQ(mkdir(rw.c_str(), 0755), 0);
  ASSERT_EQ(chown(rw.c_str(), 65534, 65534), 0);
  std::ofstream(ro + "/file") << "read-only content\n";
  ASSERT_EQ(chmod((ro + "/file").c_str(), 0666), 0);  // only the grant makes it read-only
  ASSERT_EQ(symlink("/etc", (rw + "/to_etc").c_str()), 0);
  const std::string setuid_binary = FindSetuidRootBinary();
  ASSERT_FALSE(setuid_binary.empty()) << "no setuid-root binary on this host to test with";
  const std::string spec = dir.path() + "/spec.json";
  // unix_sockets: what keeps the host's abstract sockets out of reach is then the layer beneath.
  std::ofstream(spec) << R"({"binary": ")" << ESCAPE_PROBE << R"(", "entrypoints": {"probe": {
      "args": ["BinaryName", "Trailing"], "unix_sockets": true,
      "environment": ["Stdout", "Stderr",
        {"Filesystem": {"host_path": "ro", "environment_path": "/ro"}},
        {"Filesystem": {"host_path": "rw", "environment_path": "/rw", "read_only": false}},
        {"Filesystem": {"host_path": ")"
                      << setuid_binary << R"(", "environment_path": "/su"}})"
                      << (procfs ? R"(, "Procfs")" : "") << "]}}}";
  struct utsname before;
  uname(&before);
  // $$ is the shell that becomes shim-bpf; fd 9 is open in it without CLOEXEC and not granted.
  CommandResult r = RunCommand({"sh", "-c",
                                "exec 9</etc/hostname; exec \"$0\" run -q \"$1\" -- escape $$ 9 " +
                                    std::string(procfs ? "proc" : "noproc"),
                                BuiltBinary("shim-bpf"), spec},
                               "", std::chrono::seconds(60));
  int passes = 0;
  std::vector<std::string> failures;
  for (absl::string_view line : absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "PASS ")) {
      ++passes;
    } else {
      failures.emplace_back(line);
    }
  }
  EXPECT_THAT(failures, ::testing::IsEmpty()) << r.out << r.err;
  EXPECT_GE(passes, 25) << r.out;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  struct utsname after;
  uname(&after);
  EXPECT_STREQ(before.nodename, after.nodename);
  struct stat st;
  EXPECT_NE(stat("/evil", &st), 0);
}

INSTANTIATE_TEST_SUITE_P(Procfs, RunEscape, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "with_procfs" : "without_procfs";
                         });

}  // namespace
}  // namespace shim::testing
