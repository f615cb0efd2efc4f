// forktop on live events (needs root for BPF): a process tree the test starts is seen with its
// names, parents and exit codes, in --once, --json and the interactive UI.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "support/privileged.h"
#include "support/subprocess.h"
#include "tmux.h"

namespace shim::testing {
namespace {

// A shell the test owns: `script` runs in it; killed (with its group) at the end.
class TracedShell {
 public:
  explicit TracedShell(const std::string& script) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~TracedShell() {
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

TEST(ForktopLiveTest, OnceShowsTheSubtreeOfAPid) {
  SHIM_REQUIRE_PRIVILEGED();
  TracedShell shell("sleep 30 & exec sleep 31");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const CommandResult r = RunCommand(
      {BuiltBinary("forktop"), "--once", "--ascii", "--pid", std::to_string(shell.pid())});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The shell exec'd into "sleep 31"; its child is "sleep 30".
  EXPECT_NE(r.out.find(std::to_string(shell.pid())), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sleep 31"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("`- sleep  sleep 30"), std::string::npos) << r.out;
}

TEST(ForktopLiveTest, JsonStreamsForkExecExitOfTheSubtree) {
  SHIM_REQUIRE_PRIVILEGED();
  // Waits for forktop to attach, then runs three named children with distinct exit codes.
  TracedShell shell(
      "sleep 1; for i in 1 2 3; do sh -c \"exit $i\" forktop-e2e-$i; done; "
      "/bin/echo forktop-e2e-done >/dev/null; exec sleep 30");
  const CommandResult r =
      RunCommand({BuiltBinary("forktop"), "--json", "--pid", std::to_string(shell.pid())}, "",
                 std::chrono::milliseconds(3500));
  EXPECT_TRUE(r.timed_out);  // --json streams until stopped
  EXPECT_NE(r.out.find("\"event\":\"snapshot\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"argv\":[\"/bin/echo\",\"forktop-e2e-done\"]"), std::string::npos)
      << r.out;
  for (int i = 1; i <= 3; ++i) {
    EXPECT_NE(r.out.find("\"exit_code\":" + std::to_string(i)), std::string::npos) << r.out;
  }
  EXPECT_NE(r.out.find("\"ppid\":" + std::to_string(shell.pid())), std::string::npos);
}

TEST(ForktopLiveTest, TmuxShowsANamedTreeCollapsesSearchesPausesAndQuits) {
  SHIM_REQUIRE_PRIVILEGED();
  // Named processes: links to sleep whose names become their comm.
  const std::string dir = ::testing::TempDir() + "forktop-live-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  for (const char* name : {"ftop-e2e-alpha", "ftop-e2e-beta"}) {
    std::filesystem::create_symlink("/bin/sleep", dir + "/" + name);
  }
  TracedShell shell(dir + "/ftop-e2e-alpha 30 & " + dir + "/ftop-e2e-beta 30 & wait");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  Tmux tmux(80, 24);
  ASSERT_TRUE(tmux.WaitFor("$"));
  tmux.StartForktop("--pid " + std::to_string(shell.pid()));
  ASSERT_TRUE(tmux.WaitFor("ftop-e2e-beta")) << tmux.Capture();
  std::string screen = tmux.Capture();
  EXPECT_NE(screen.find("pid " + std::to_string(shell.pid()) + " subtree"), std::string::npos)
      << screen;
  EXPECT_NE(screen.find("ftop-e2e-alpha"), std::string::npos) << screen;

  tmux.Keys({"g", "h"});  // collapse the shell: its children disappear
  ASSERT_TRUE(tmux.WaitFor("ftop-e2e-beta", false)) << tmux.Capture();
  EXPECT_NE(tmux.Capture().find("(+2)"), std::string::npos) << tmux.Capture();
  tmux.Keys({"l"});
  ASSERT_TRUE(tmux.WaitFor("ftop-e2e-beta")) << tmux.Capture();

  // The filter keeps matching rows and their ancestors: the shell's row still names alpha in its
  // command line, so look for alpha's own row (its tree branch).
  tmux.Type("/beta");
  ASSERT_TRUE(tmux.WaitFor("\u2500 ftop-e2e-alpha", false)) << tmux.Capture();
  tmux.Keys({"Escape"});
  ASSERT_TRUE(tmux.WaitFor("\u2500 ftop-e2e-alpha")) << tmux.Capture();

  tmux.Keys({"p"});
  ASSERT_TRUE(tmux.WaitFor("PAUSED")) << tmux.Capture();
  tmux.Keys({"q"});
  tmux.ExpectRestored();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace shim::testing
