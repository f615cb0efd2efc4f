// The escape battery: escape_probe runs in a void with a read-only grant, a writable grant, a
// setuid binary granted read-only, /proc, and a stray inherited fd, and tries to get out. Also:
// a void dies with its supervisor, even when the supervisor is killed with SIGKILL.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/pidfd.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/unique_fd.h"
#include "support/privileged.h"
#include "support/setuid_binary.h"
#include "void/void.h"
#include "void_test_util.h"

namespace shim::sandbox::testing {
namespace {

// The ways a void can be built: with /proc (mounts built per instance), without /proc (mounts
// copied from the per-entrypoint template), with and without the template and shared memory.
struct Mode {
  const char* name;
  bool procfs;
  bool mount_template;
  bool share_memory;
  bool share_template_mounts = true;
};

class VoidEscape : public ::testing::TestWithParam<Mode> {};

TEST_P(VoidEscape, ProbeFindsNoWayOut) {
  SHIM_REQUIRE_PRIVILEGED();
  const Mode mode = GetParam();
  TempDir dir;
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  const std::string ro = dir.path() + "/ro", rw = dir.path() + "/rw";
  ASSERT_EQ(mkdir(ro.c_str(), 0755), 0);
  ASSERT_EQ(mkdir(rw.c_str(), 0755), 0);
  ASSERT_EQ(chown(rw.c_str(), 65534, 65534), 0);
  std::ofstream(ro + "/file") << "read-only content\n";
  ASSERT_EQ(chmod((ro + "/file").c_str(), 0666), 0);        // only the grant makes it read-only
  ASSERT_EQ(symlink("/etc", (rw + "/to_etc").c_str()), 0);  // planted by the host
  const std::string setuid_binary = ::shim::testing::FindSetuidRootBinary();
  ASSERT_FALSE(setuid_binary.empty()) << "no setuid-root binary on this host to test with";

  // A host abstract unix socket the void must not reach.
  UniqueFd listener(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  // Named after this process, as escape_probe.c expects: parallel batteries must not collide.
  const std::string name = absl::StrCat("shim-void-escape-probe-", getpid());
  memcpy(addr.sun_path + 1, name.data(), name.size());
  ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&addr),
                 offsetof(sockaddr_un, sun_path) + 1 + name.size()),
            0)
      << strerror(errno);
  ASSERT_EQ(listen(listener.get(), 1), 0);
  UniqueFd stray(open("/etc/hostname", O_RDONLY));  // inherited (no CLOEXEC), not granted
  ASSERT_TRUE(stray.valid());

  struct utsname before;
  uname(&before);
  std::vector<spec::EnvironmentKind> environment = {Grant(ro, "/ro"), Grant(rw, "/rw", false),
                                                    Grant(setuid_binary, "/su")};
  if (mode.procfs) environment.push_back(spec::EnvProcfs{});
  VoidOptions options;
  options.mount_template = mode.mount_template;
  options.share_memory_until_exec = mode.share_memory;
  options.share_template_mounts = mode.share_template_mounts;
  options.mount_template_after = 0;  // the template (when wanted) from the first instance on
  // With unix sockets granted, so that what keeps the host's abstract socket out of reach is
  // the layer beneath (the empty netns and Landlock's scope), not the missing socket.
  spec::Entrypoint entrypoint = MakeEntrypoint(ESCAPE_PROBE, environment);
  entrypoint.unix_sockets = true;
  auto v = PreparedVoid::Prepare(entrypoint, options);
  ASSERT_TRUE(v.ok()) << v.status();
  absl::StatusOr<VoidRun> r =
      RunVoid(**v, {"escape_probe", "escape", std::to_string(getpid()), std::to_string(stray.get()),
                    mode.procfs ? "proc" : "noproc"});
  ASSERT_TRUE(r.ok()) << r.status();

  int passes = 0;
  std::vector<std::string> failures;
  for (absl::string_view line : absl::StrSplit(r->out, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "PASS ")) {
      ++passes;
    } else {
      failures.emplace_back(line);
    }
  }
  EXPECT_THAT(failures, ::testing::IsEmpty()) << r->out << r->err;
  EXPECT_GE(passes, 25) << r->out;
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
  // Nothing leaked onto the host.
  struct utsname after;
  uname(&after);
  EXPECT_STREQ(before.nodename, after.nodename);
  struct stat st;
  EXPECT_NE(stat("/evil", &st), 0);
  EXPECT_EQ(stat((rw + "/created").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
}

INSTANTIATE_TEST_SUITE_P(Modes, VoidEscape,
                         ::testing::Values(Mode{"procfs", true, true, true},
                                           Mode{"procfs_fork", true, true, false},
                                           Mode{"template", false, true, true},
                                           Mode{"template_copied", false, true, true, false},
                                           Mode{"per_instance_mounts", false, false, true},
                                           Mode{"per_instance_fork", false, false, false}),
                         [](const ::testing::TestParamInfo<Mode>& info) {
                           return std::string(info.param.name);
                         });

TEST(VoidNetwork, GrantedNetworkAllowsOrdinarySocketsOnly) {
  SHIM_REQUIRE_PRIVILEGED();
  UniqueFd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ASSERT_EQ(listen(listener.get(), 4), 0);
  spec::Entrypoint e = MakeEntrypoint(ESCAPE_PROBE);
  e.network = spec::NetworkPolicy{};
  auto v = PreparedVoid::Prepare(e);
  ASSERT_TRUE(v.ok()) << v.status();
  absl::StatusOr<VoidRun> r =
      RunVoid(**v, {"probe", "network", std::to_string(ntohs(addr.sin_port))});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
  EXPECT_THAT(r->out, ::testing::Not(::testing::HasSubstr("FAIL"))) << r->out;
  EXPECT_THAT(r->out, ::testing::HasSubstr("PASS connect_host_loopback"));
}

TEST(VoidNetwork, NoGrantMeansNoNetworkEvenThroughAnInheritedSocket) {
  SHIM_REQUIRE_PRIVILEGED();
  auto v = PreparedVoid::Prepare(MakeEntrypoint(ESCAPE_PROBE));
  ASSERT_TRUE(v.ok()) << v.status();
  absl::StatusOr<VoidRun> r = RunVoid(**v, {"probe", "network", "1"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_THAT(r->out, ::testing::HasSubstr("FAIL tcp_socket expected success got EPERM"));
}

// Waits until `pidfd` reports an exit, at most `ms`.
bool ExitsWithin(int pidfd, int ms) {
  pollfd p = {pidfd, POLLIN, 0};
  return poll(&p, 1, ms) == 1;
}

TEST(VoidLifetime, VoidDiesWithItsSupervisorEvenOnSigkill) {
  SHIM_REQUIRE_PRIVILEGED();
  int report[2];
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  UniqueFd report_r(report[0]), report_w(report[1]);
  pid_t supervisor = fork();
  ASSERT_GE(supervisor, 0);
  if (supervisor == 0) {
    // The stand-in supervisor: spawns one sleeping void, reports its host pid, waits to be killed.
    report_r.reset();
    auto v = PreparedVoid::Prepare(MakeEntrypoint(ESCAPE_PROBE));
    if (!v.ok()) _exit(10);
    SpawnRequest request;
    request.argv = {"probe", "sleep"};
    absl::StatusOr<Instance> instance = (*v)->Spawn(request);
    if (!instance.ok()) _exit(11);
    pid_t pid = instance->pid;
    if (write(report_w.get(), &pid, sizeof pid) != sizeof pid) _exit(12);
    for (;;) pause();
  }
  report_w.reset();
  pid_t void_pid = 0;
  ASSERT_EQ(read(report_r.get(), &void_pid, sizeof void_pid),
            static_cast<ssize_t>(sizeof void_pid));
  UniqueFd void_pidfd(static_cast<int>(syscall(SYS_pidfd_open, void_pid, 0)));
  ASSERT_TRUE(void_pidfd.valid());
  EXPECT_FALSE(ExitsWithin(void_pidfd.get(), 200)) << "the void should be running";
  ASSERT_EQ(kill(supervisor, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(supervisor, &status, 0), supervisor);
  EXPECT_TRUE(ExitsWithin(void_pidfd.get(), 5000)) << "the void outlived its supervisor";
}

}  // namespace
}  // namespace shim::sandbox::testing
