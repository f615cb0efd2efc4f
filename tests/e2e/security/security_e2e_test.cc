// Attacks on the root supervisor from inside a void ("a void attacks through the supervisor",
// docs/security.md): what the supervisor opens, resolves or closes on a void's behalf, voids that
// would outlive it, the operator's terminal. Each test runs the attack under `shim-bpf run` and
// then the control that proves the feature the attack abuses still works.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"
#include "e2e/forktop/tmux.h"
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

// Writes spec.json into `dir` with the attack probe as the binary.
std::string ProbeSpec(const RunFixtureDir& dir, const std::string& entrypoints) {
  const std::string spec = dir.path() + "/spec.json";
  std::ofstream(spec) << R"({"binary": ")" << ATTACK_PROBE << R"(", "entrypoints": {)"
                      << entrypoints << "}}";
  return spec;
}

std::vector<std::string> RunArgv(const RunFixtureDir& dir, const std::string& spec,
                                 const std::vector<std::string>& trailing = {}) {
  std::vector<std::string> argv = {
      BuiltBinary("shim-bpf"), "run", "-q", "--grace", "2s", "--events", dir.events_path(), spec};
  if (!trailing.empty()) {
    argv.push_back("--");
    argv.insert(argv.end(), trailing.begin(), trailing.end());
  }
  return argv;
}

void MakeDir(const std::string& path, uid_t owner = 0) {
  ASSERT_EQ(mkdir(path.c_str(), 0755), 0) << path;
  if (owner != 0) {
    ASSERT_EQ(chown(path.c_str(), owner, owner), 0);
  }
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
}

// How many times `needle` occurs in `text`.
size_t Occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Whether `pid` still runs: gone, or a zombie nobody has reaped yet (its parent died), is not.
bool Alive(pid_t pid) {
  const std::string stat = ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/stat"));
  const size_t end = stat.rfind(')');
  return end != std::string::npos && end + 2 < stat.size() && stat[end + 2] != 'Z' &&
         stat[end + 2] != 'X';
}

// --- 1. File args: resolved once, never a symlink, a FIFO or the supervisor's /proc ---------

// The attack a void could make through a writable grant, made from the host while the run
// serves: the File's path is swapped for a symlink to a root-only file. The next handler still
// reads the file resolved at start-up.
TEST(SupervisorAttack, AFileArgSwappedForASymlinkDuringTheRunStillGivesTheOriginalFile) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  MakeDir(dir.path() + "/flag");
  MakeDir(dir.path() + "/conf");
  WriteFile(dir.path() + "/conf/greeting", "the original greeting\n");
  const std::string spec = ProbeSpec(dir, R"(
    "send-when": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "jobs"}}],
                  "environment": [{"Filesystem": {"host_path": "flag", "environment_path": "/flag"}}]},
    "read-fd": {"trigger": {"Pipe": "jobs"}, "args": ["BinaryName", "Entrypoint",
                {"File": "conf/greeting"}], "environment": ["Stdout"]})");
  BackgroundProcess run(RunArgv(dir, spec));
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(run.Out(), "the original greeting"); }))
      << run.Out() << run.Err();
  // The swap: rename the file away and put a symlink to /etc/shadow in its place.
  const std::string path = dir.path() + "/conf/greeting";
  ASSERT_EQ(rename(path.c_str(), (path + ".moved").c_str()), 0);
  ASSERT_EQ(symlink("/etc/shadow", path.c_str()), 0);
  WriteFile(dir.path() + "/flag/go", "");
  EXPECT_EQ(run.Wait(std::chrono::seconds(20)), 0) << run.Err();
  const std::string out = run.Out();
  EXPECT_THAT(out, Not(HasSubstr("root:"))) << "a handler read /etc/shadow";
  // Both handlers read the inode resolved at start-up.
  EXPECT_EQ(Occurrences(out, "read: [the original greeting]"), 2u) << out;
}

TEST(SupervisorAttack, AFileArgThatIsAFifoASymlinkOrProcIsRefusedAtStartWithoutBlocking) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  ASSERT_EQ(mkfifo((dir.path() + "/fifo").c_str(), 0666), 0);
  WriteFile(dir.path() + "/target", "x\n");
  ASSERT_EQ(symlink((dir.path() + "/target").c_str(), (dir.path() + "/link").c_str()), 0);
  ASSERT_EQ(lchown((dir.path() + "/link").c_str(), 65534, 65534), 0);  // as a void would own it
  struct Case {
    std::string file;
    std::string expected;
  };
  for (const Case& c : {Case{"fifo", "is a FIFO; a File arg must be a regular file"},
                        Case{"link", "is owned by uid 65534, not root"},
                        Case{"/proc/self/maps", "kernel pseudo filesystem"},
                        Case{"/dev/zero", "is a character device"}}) {
    SCOPED_TRACE(c.file);
    const std::string spec = ProbeSpec(dir, R"("read-fd": {"args": ["BinaryName", "Entrypoint",
        {"File": ")" + c.file + R"("}], "environment": ["Stdout"]})");
    const auto started = std::chrono::steady_clock::now();
    CommandResult r = RunCommand(RunArgv(dir, spec), "", std::chrono::seconds(20));
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10)) << "blocked";
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("/entrypoints/read-fd/args/2")) << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.expected)) << r.err;
  }
  // Control: a root-owned symlink to a regular file is followed, once.
  ASSERT_EQ(lchown((dir.path() + "/link").c_str(), 0, 0), 0);
  const std::string spec = ProbeSpec(dir, R"("read-fd": {"args": ["BinaryName", "Entrypoint",
      {"File": "link"}], "environment": ["Stdout"]})");
  CommandResult r = RunCommand(RunArgv(dir, spec), "", std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("read: [x]"));
}

// --- 2. Nothing the supervisor resolves lies inside a writable grant --------------------------

TEST(SupervisorAttack, GrantsAndFilesInsideAWritableGrantAreRefusedByValidateAndRun) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  MakeDir(dir.path() + "/shared", 65534);
  MakeDir(dir.path() + "/shared/sub", 65534);
  WriteFile(dir.path() + "/shared/file", "x\n");
  MakeDir(dir.path() + "/sibling");
  const std::string spec = ProbeSpec(dir, R"(
    "writer": {"args": ["BinaryName", "Entrypoint"], "environment": [
      {"Filesystem": {"host_path": "shared", "environment_path": "/shared", "read_only": false}}]},
    "reader": {"args": ["BinaryName", "Entrypoint", {"File": "shared/file"}], "environment": [
      {"Filesystem": {"host_path": "shared/sub", "environment_path": "/data"}},
      {"Filesystem": {"host_path": "sibling", "environment_path": "/sibling"}}]})");
  CommandResult v = RunCommand({BuiltBinary("shim-bpf"), "validate", spec});
  EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
  const std::string report = v.out + v.err;
  EXPECT_THAT(report, HasSubstr("/entrypoints/reader/environment/0/Filesystem/host_path: error: "
                                "grant"));
  EXPECT_THAT(report, HasSubstr("lies inside the writable grant at "
                                "/entrypoints/writer/environment/0/Filesystem/host_path"));
  EXPECT_THAT(report, HasSubstr("/entrypoints/reader/args/2/File: error: File"));
  EXPECT_THAT(report, Not(HasSubstr("environment/1/Filesystem/host_path: error"))) << "sibling";
  CommandResult r = RunCommand(RunArgv(dir, spec), "", std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("lies inside the writable grant"));
  // Control: the same grants side by side are valid.
  const std::string good = ProbeSpec(dir, R"(
    "writer": {"args": ["BinaryName", "Entrypoint"], "environment": [
      {"Filesystem": {"host_path": "shared", "environment_path": "/shared", "read_only": false}}]},
    "reader": {"args": ["BinaryName", "Entrypoint"], "environment": [
      {"Filesystem": {"host_path": "sibling", "environment_path": "/data"}},
      {"Filesystem": {"host_path": "shared", "environment_path": "/shared"}}]})");
  CommandResult g = RunCommand({BuiltBinary("shim-bpf"), "validate", good});
  EXPECT_EQ(g.exit_code, 0) << g.out << g.err;
}

// The swap of a granted folder for a symlink to / between two instances: with Procfs every
// instance binds its grants itself, and finds the swapped path refused; from a template the
// instance never resolves anything again. Neither sees the host's root.
TEST(SupervisorAttack, AGrantSwappedForASymlinkToRootDuringTheRunNeverShowsTheHostRoot) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  MakeDir(dir.path() + "/flag");
  MakeDir(dir.path() + "/data");
  WriteFile(dir.path() + "/data/only-this", "");
  const std::string spec = ProbeSpec(dir, R"(
    "send-when": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "a"}}, {"Pipe": {"Tx": "b"}}],
                  "environment": [{"Filesystem": {"host_path": "flag", "environment_path": "/flag"}}]},
    "list-data": {"trigger": {"Pipe": "a"}, "args": ["BinaryName", "Entrypoint"],
                  "environment": ["Stdout", "Procfs",
                                  {"Filesystem": {"host_path": "data", "environment_path": "/data"}}]},
    "list-data-from-template": {"trigger": {"Pipe": "b"}, "args": ["BinaryName", "Trailing"],
                  "environment": ["Stdout",
                                  {"Filesystem": {"host_path": "data", "environment_path": "/data"}}]})");
  BackgroundProcess run(RunArgv(dir, spec, {"list-data"}));
  ASSERT_TRUE(WaitUntil([&] { return Occurrences(run.Out(), "list /data: only-this") == 2; }))
      << run.Out() << run.Err();
  const std::string data = dir.path() + "/data";
  ASSERT_EQ(rename(data.c_str(), (data + ".moved").c_str()), 0);
  ASSERT_EQ(symlink("/", data.c_str()), 0);
  WriteFile(dir.path() + "/flag/go", "");
  ASSERT_TRUE(WaitUntil([&] {
    return EventsOf(dir.Events(), "spawn_failed").size() + EventsOf(dir.Events(), "exit").size() >=
           5;
  })) << run.Err();
  run.Signal(SIGTERM);
  run.Wait(std::chrono::seconds(10));
  const std::string out = run.Out();
  EXPECT_THAT(out, Not(HasSubstr(" etc"))) << "a void listed the host's root: " << out;
  // The Procfs instance was refused (the path is a symlink now) and said so.
  const auto failed = EventsOf(dir.Events(), "spawn_failed", "list-data");
  ASSERT_EQ(failed.size(), 1u) << run.Err();
  EXPECT_THAT(failed[0]["error"].get<std::string>(), HasSubstr("open_grant_source"));
  EXPECT_THAT(failed[0]["error"].get<std::string>(), HasSubstr("ELOOP"));
  // The template instance still shows the folder resolved at start-up.
  EXPECT_EQ(Occurrences(out, "list /data: only-this"), 3u) << out;
}

// --- 3. The loop never blocks on a void's fds ---------------------------------------------------

// A refused batch whose socket lingers 60 s on close: timeouts still fire on time and SIGTERM
// still ends the run within its grace.
TEST(SupervisorAttack, ARefusedBatchWithALingeringSocketDoesNotStallTheSupervisor) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  // A peer that never reads: the probe's unsent data stays queued.
  UniqueFd peer(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int small = 4096;
  setsockopt(peer.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(peer.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(peer.get(), 4), 0);
  socklen_t length = sizeof address;
  getsockname(peer.get(), reinterpret_cast<sockaddr*>(&address), &length);
  const int port = ntohs(address.sin_port);
  // "pdeathsig" only sleeps here: the entrypoint whose timeout must fire on time.
  const std::string spec = ProbeSpec(dir, absl::StrCat(R"(
    "linger-batch": {"args": ["BinaryName", "Entrypoint", {"FileSocket": {"Tx": "fds"}}, "Trailing"],
                     "environment": ["Stdout"],
                     "network": {"outbound": [{"cidr": "127.0.0.1/32", "ports": [)",
                                                       port, R"(]}]}},
    "read-fd": {"trigger": {"FileSocket": "fds"}, "args": ["BinaryName", "Entrypoint", "Trigger"]},
    "pdeathsig": {"args": ["BinaryName", "Entrypoint"], "limits": {"timeout": "3s"}})"));
  BackgroundProcess run(RunArgv(dir, spec, {std::to_string(port)}));
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(run.Out(), "linger-batch: sent"); }))
      << run.Out() << run.Err();
  EXPECT_THAT(run.Out(), HasSubstr("send_fds 65: ok"));
  // The timeout of the sleeping entrypoint fires about 3 s after its start, not after the linger.
  ASSERT_TRUE(WaitUntil([&] { return !EventsOf(dir.Events(), "exit", "pdeathsig").empty(); },
                        std::chrono::seconds(15)))
      << run.Err();
  const auto exit = EventsOf(dir.Events(), "exit", "pdeathsig")[0];
  EXPECT_TRUE(exit.value("timed_out", false)) << exit.dump();
  EXPECT_LT(exit["duration_ms"].get<double>(), 8000) << exit.dump();
  EXPECT_FALSE(EventsOf(dir.Events(), "trigger_refused", "read-fd").empty());
  // SIGTERM ends the run within its grace (2 s), though the lingering close is still pending.
  const auto stop = std::chrono::steady_clock::now();
  run.Signal(SIGTERM);
  EXPECT_NE(run.Wait(std::chrono::seconds(15)), -1);
  EXPECT_LT(std::chrono::steady_clock::now() - stop, std::chrono::seconds(8));
}

// --- 4. No void outlives the supervisor ----------------------------------------------------------

TEST(SupervisorAttack, AVoidThatResetsItsParentDeathSignalStillDiesWithTheSupervisor) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const std::string spec = ProbeSpec(
      dir, R"("pdeathsig": {"args": ["BinaryName", "Entrypoint"], "environment": ["Stdout"]})");
  BackgroundProcess run(RunArgv(dir, spec));
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(run.Out(), "sleeping"); }))
      << run.Out() << run.Err();
  const std::string out = run.Out();
  EXPECT_THAT(out, HasSubstr("reset to 0: EPERM"));
  EXPECT_THAT(out, HasSubstr("set SIGTERM: EPERM"));
  EXPECT_THAT(out, HasSubstr("set SIGKILL: ok"));  // the control: SIGKILL may be set again
  EXPECT_THAT(out, HasSubstr("pdeathsig now 9"));
  const auto spawns = EventsOf(dir.Events(), "spawn", "pdeathsig");
  ASSERT_EQ(spawns.size(), 1u);
  const pid_t void_pid = spawns[0]["pid"].get<int>();
  ASSERT_TRUE(Alive(void_pid));
  ASSERT_TRUE(run.Signal(SIGKILL));
  run.Wait(std::chrono::seconds(5));
  EXPECT_TRUE(WaitUntil([&] { return !Alive(void_pid); }, std::chrono::seconds(1)))
      << "the void outlived its supervisor";
}

// --- 5. The operator's terminal ------------------------------------------------------------------

TEST(SupervisorAttack, AVoidGivenTheTerminalCannotTakeItAndCtrlCStillStopsTheRun) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const std::string spec = ProbeSpec(
      dir, R"("tty": {"args": ["BinaryName", "Entrypoint"], "environment": ["Stdin", "Stdout"]})");
  Tmux tmux(120, 30);
  tmux.Type(absl::StrCat(BuiltBinary("shim-bpf"), " run -q --grace 1s ", spec,
                         "; echo RUN-EN\"\"DED $?"));
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitFor("tty: holding", true, 15000)) << tmux.Capture();
  const std::string screen = tmux.Capture();
  EXPECT_THAT(screen, HasSubstr("isatty: 1"));  // the control: the terminal was granted
  EXPECT_THAT(screen, HasSubstr("session leader: yes"));
  EXPECT_THAT(screen, HasSubstr("tcsetpgrp: ENOTTY"));
  EXPECT_THAT(screen, HasSubstr("TIOCSCTTY: EPERM"));
  EXPECT_THAT(screen, HasSubstr("TIOCSTI: EPERM"));
  tmux.Keys({"C-c"});
  EXPECT_TRUE(tmux.WaitFor("RUN-ENDED 0", true, 10000)) << tmux.Capture();
}

// --- 6. setuid files, fileless exec, the host's mounts -----------------------------------------

TEST(SupervisorAttack, AVoidCannotLeaveASetuidFileInAWritableGrant) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  MakeDir(dir.path() + "/rw", 65534);
  const std::string spec = ProbeSpec(dir, R"("setuid": {"args": ["BinaryName", "Entrypoint"],
      "environment": ["Stdout", {"Filesystem": {"host_path": "rw", "environment_path": "/rw",
                                                "read_only": false}}]})");
  CommandResult r = RunCommand(RunArgv(dir, spec), "", std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* line :
       {"create plain: ok", "chmod 0755: ok", "chmod 04755: EPERM", "chmod 02755: EPERM",
        "fchmodat 06755: EPERM", "fchmod 04755: EPERM", "fchmodat2 04755: EPERM",
        "open O_CREAT 04755: EPERM", "openat O_CREAT 02755: EPERM", "creat 04755: EPERM",
        "mknod S_IFREG|04755: EPERM"}) {
    EXPECT_THAT(r.out, HasSubstr(line));
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() + "/rw")) {
    struct stat st;
    ASSERT_EQ(stat(entry.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & (S_ISUID | S_ISGID), 0u) << entry.path();
  }
  struct stat plain;
  ASSERT_EQ(stat((dir.path() + "/rw/plain").c_str(), &plain), 0);
  EXPECT_EQ(plain.st_mode & 07777, 0755u);
}

// A writable grant is noexec: a void cannot run code it wrote there, unless the spec says
// "exec": "writable" for that grant ("exec": true is refused on a writable grant).
TEST(SupervisorAttack, AVoidRunsCodeItWroteOnlyWhereTheSpecSaysExecWritable) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  MakeDir(dir.path() + "/rw", 65534);
  for (const char* exec : {"", R"(, "exec": true)", R"(, "exec": "writable")"}) {
    SCOPED_TRACE(exec);
    const std::string spec = ProbeSpec(dir, absl::StrCat(R"("exec-rw": {
        "args": ["BinaryName", "Entrypoint"], "environment": ["Stdout",
          {"Filesystem": {"host_path": "rw", "environment_path": "/rw", "read_only": false)",
                                                         exec, "}}]}"));
    CommandResult r = RunCommand(RunArgv(dir, spec), "", std::chrono::seconds(20));
    if (std::string(exec).empty()) {
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_THAT(r.out, HasSubstr("execve /rw/copy: EACCES"));
    } else if (absl::StrContains(exec, "true")) {
      EXPECT_NE(r.exit_code, 0);
      EXPECT_THAT(r.err, HasSubstr("a writable grant is not executable"));
    } else {
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_THAT(r.out, HasSubstr("read: []"));  // the copy ran and read its /dev/null stdin
    }
  }
}

TEST(SupervisorAttack, AVoidCannotExecuteAMemfd) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const std::string spec = ProbeSpec(
      dir, R"("memfd": {"args": ["BinaryName", "Entrypoint"], "environment": ["Stdout"]})");
  CommandResult r = RunCommand(RunArgv(dir, spec), "", std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("memfd_create: ok"));  // the controls: a memfd as memory
  EXPECT_THAT(r.out, HasSubstr("copied self: ok"));
  EXPECT_THAT(r.out, HasSubstr("read back: ok"));
  EXPECT_THAT(r.out, HasSubstr("memfd MFD_EXEC: EACCES"));
  EXPECT_THAT(r.out, HasSubstr("fchmod +x: EPERM"));
  EXPECT_THAT(r.out, HasSubstr("execveat memfd: EACCES"));
  // The host's own setting is untouched (the void's is per pid namespace).
  EXPECT_EQ(ReadFileOrEmpty("/proc/sys/vm/memfd_noexec"), "0\n");
}

TEST(SupervisorAttack, AVoidCannotListTheHostsMounts) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const std::string spec = ProbeSpec(
      dir, R"("mounts": {"args": ["BinaryName", "Entrypoint"], "environment": ["Stdout"]})");
  CommandResult r = RunCommand(RunArgv(dir, spec), "", std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("listmount: EPERM"));
  EXPECT_THAT(r.out, HasSubstr("statmount: EPERM"));
  EXPECT_THAT(r.out, HasSubstr("getpid: ok"));
}

// --- 6b. Unix sockets and locks: the host's abstract names, read-only grants ---------------------

// A unix listener at `path` (a filesystem name) or, with a leading '@', at an abstract name.
UniqueFd UnixListener(const std::string& name) {
  UniqueFd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  memcpy(a.sun_path, name.data(), name.size());
  if (name[0] == '@') a.sun_path[0] = '\0';
  const socklen_t length = offsetof(sockaddr_un, sun_path) + name.size() + (name[0] == '@' ? 0 : 1);
  if (bind(s.get(), reinterpret_cast<sockaddr*>(&a), length) != 0 || listen(s.get(), 4) != 0) {
    ADD_FAILURE() << "unix listener " << name << ": " << strerror(errno);
  }
  return s;
}

// Whether a host client can connect to the abstract name @name.
bool HostConnectsToAbstract(const std::string& name) {
  UniqueFd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  memcpy(a.sun_path + 1, name.data(), name.size());
  return connect(s.get(), reinterpret_cast<sockaddr*>(&a),
                 offsetof(sockaddr_un, sun_path) + 1 + name.size()) == 0;
}

// A networked void shares the host's network namespace and so its abstract unix names, and no
// cgroup hook sees a unix bind: without "unix_sockets" it cannot make a socket to bind one.
TEST(SupervisorAttack, ANetworkedVoidCannotListenOnAnAbstractNameOfTheHost) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const std::string name = absl::StrCat("shim-security-abstract-", getpid());
  for (const bool opt_in : {false, true}) {
    SCOPED_TRACE(opt_in ? "unix_sockets: true" : "default");
    const std::string spec = ProbeSpec(dir, absl::StrCat(R"("unix-sockets": {
        "args": ["BinaryName", "Entrypoint", "Trailing"], "environment": ["Stdout"],
        "network": {"outbound": [{"cidr": "127.0.0.1/32"}]}, "unix_sockets": )",
                                                         opt_in ? "true" : "false", "}"));
    BackgroundProcess run(RunArgv(dir, spec, {name}));
    ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(run.Out(), "unix-sockets: holding"); }))
        << run.Out() << run.Err();
    const std::string out = run.Out();
    // The controls: stream and seqpacket pairs (self-pipes, channels) and inet sockets work.
    EXPECT_THAT(out, HasSubstr("socketpair stream: ok"));
    EXPECT_THAT(out, HasSubstr("socketpair seqpacket: ok"));
    EXPECT_THAT(out, HasSubstr("socket inet: ok"));
    if (!opt_in) {
      EXPECT_THAT(out, HasSubstr("socket unix: EPERM"));
      EXPECT_THAT(out, HasSubstr("socketpair dgram: EPERM"));
      EXPECT_FALSE(HostConnectsToAbstract(name));
    } else {
      // What the opt-in means, as docs/security.md says: the name is the host's.
      EXPECT_THAT(out, HasSubstr("socket unix: ok"));
      EXPECT_THAT(out, HasSubstr("abstract listen: ok"));
      EXPECT_TRUE(HostConnectsToAbstract(name));
    }
    EXPECT_EQ(run.Wait(std::chrono::seconds(15)), 0) << run.Err();
  }
}

// A host daemon's socket in a read-only grant: without "unix_sockets" the void has no socket to
// connect with (Landlock has no right for connecting yet); with it (the control), it connects.
TEST(SupervisorAttack, AVoidCannotConnectToAHostSocketInItsGrantsUnlessGranted) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  MakeDir(dir.path() + "/ro");
  UniqueFd daemon = UnixListener(dir.path() + "/ro/sock");
  ASSERT_EQ(chmod((dir.path() + "/ro/sock").c_str(), 0777), 0);
  for (const bool granted : {false, true}) {
    SCOPED_TRACE(granted ? "unix_sockets: true" : "default");
    const std::string spec = ProbeSpec(dir, absl::StrCat(R"("connect-ro": {
        "args": ["BinaryName", "Entrypoint"], "unix_sockets": )",
                                                         granted ? "true" : "false", R"(,
        "environment": ["Stdout", {"Filesystem": {"host_path": "ro", "environment_path": "/ro"}}]})"));
    CommandResult r = RunCommand(RunArgv(dir, spec), "", std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    UniqueFd accepted(accept4(daemon.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!granted) {
      EXPECT_THAT(r.out, HasSubstr("socket unix: EPERM"));
      EXPECT_FALSE(accepted.valid()) << "the host daemon got a connection from the void";
    } else {
      EXPECT_THAT(r.out, HasSubstr("connect /ro/sock: ok"));
      EXPECT_TRUE(accepted.valid());
    }
  }
}

// --- 7. Names printed for humans; channel ends in batches ---------------------------------------

TEST(SupervisorAttack, AProcessNameWithControlCharactersReachesStderrEscaped) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  const int port = FreeLoopbackPort();
  const std::string spec = ProbeSpec(dir, R"("evil-comm": {"args": ["BinaryName", "Entrypoint",
      "Trailing"], "environment": ["Stdout"], "network": {"outbound": []}})");
  // Not -q: denials are printed on stderr.
  CommandResult r = RunCommand({BuiltBinary("shim-bpf"), "run", "--events", dir.events_path(), spec,
                                "--", std::to_string(port)},
                               "", std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(": EPERM"));  // the socket, or its connect, is denied
  EXPECT_THAT(r.err, HasSubstr("(pid "));
  EXPECT_THAT(r.err, HasSubstr("\\x0ashim-bpf: ok\\x1b[")) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("\x1b"))) << "a raw escape reached the terminal";
  EXPECT_THAT(r.err, Not(HasSubstr("\nshim-bpf: ok"))) << "a forged line";
  // --events keeps the exact bytes (JSON escapes them its own way).
  const auto denials = EventsOf(dir.Events(), "denial");
  ASSERT_FALSE(denials.empty());
  EXPECT_EQ(denials[0]["comm"].get<std::string>(), "\nshim-bpf: ok\x1b[");
}

TEST(SupervisorAttack, ForktopOncePrintsProcessNamesEscaped) {
  RunFixtureDir dir;
  const std::string replay = dir.path() + "/evil.jsonl";
  std::ofstream(replay)
      << R"({"event":"snapshot","ts_ns":1000,"pid":7,"tgid":7,"ppid":0,"comm":"\nforged\u001b[2J","filename":"/x","argv":["x\u001b]0;title\u0007"]})"
      << "\n";
  CommandResult r = RunCommand({BuiltBinary("forktop"), "--replay", replay, "--once"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\\x0aforged\\x1b[2J")) << r.out;
  EXPECT_THAT(r.out, Not(HasSubstr("\x1b")));
  EXPECT_THAT(r.out, Not(HasSubstr("\x07")));
}

TEST(SupervisorAttack, AHandlerNeverReceivesAChannelEndOfTheRun) {
  SHIM_REQUIRE_PRIVILEGED();
  RunFixtureDir dir;
  for (const std::string sender : {"send-self", "send-null"}) {
    SCOPED_TRACE(sender);
    std::filesystem::remove(dir.events_path());
    const std::string spec = ProbeSpec(dir, R"(")" + sender + R"(": {"args": ["BinaryName",
        "Entrypoint", {"FileSocket": {"Tx": "fds"}}], "environment": ["Stdout"]},
      "read-fd": {"trigger": {"FileSocket": "fds"}, "args": ["BinaryName", "Entrypoint", "Trigger"],
                  "environment": ["Stdout"]})");
    CommandResult r = RunCommand(RunArgv(dir, spec), "", std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("send_fds 1: ok"));
    const auto spawned = EventsOf(dir.Events(), "spawn", "read-fd");
    const auto refused = EventsOf(dir.Events(), "trigger_refused", "read-fd");
    if (sender == "send-self") {
      EXPECT_TRUE(spawned.empty()) << "a handler got its own trigger's Tx end";
      ASSERT_EQ(refused.size(), 1u);
      EXPECT_THAT(refused[0]["error"].get<std::string>(), HasSubstr("run's own channel ends"));
    } else {
      EXPECT_EQ(spawned.size(), 1u);  // the control: an ordinary fd makes a handler
      EXPECT_TRUE(refused.empty());
      EXPECT_THAT(r.out, HasSubstr("read: []"));
    }
  }
}

}  // namespace
}  // namespace shim::testing
