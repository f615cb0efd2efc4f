// A tmux server on its own socket for forktop's terminal tests: send-keys in, capture-pane out,
// and a check that the terminal is sane after forktop exits.
#pragma once

#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/subprocess.h"

namespace shim::testing {

// One tmux server on its own socket, killed at the end of the test whatever happens.
class Tmux {
 public:
  Tmux(int width, int height) {
    static int counter = 0;
    socket_ = "forktop-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    // A plain shell with a known prompt: after forktop quits, the test types into it.
    const CommandResult r = Run({"new-session", "-d", "-x", std::to_string(width), "-y",
                                 std::to_string(height), "env PS1='$ ' LANG=C.UTF-8 sh"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Run({"set-option", "-g", "window-size", "manual"});
  }
  ~Tmux() { Run({"kill-server"}); }

  CommandResult Run(std::vector<std::string> args) const {
    std::vector<std::string> argv = {"tmux", "-L", socket_, "-f", "/dev/null"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, "", std::chrono::seconds(10));
  }
  void Keys(const std::vector<std::string>& keys) const {
    std::vector<std::string> args = {"send-keys", "-t", "0"};
    args.insert(args.end(), keys.begin(), keys.end());
    Run(args);
  }
  void Type(const std::string& text) const { Run({"send-keys", "-t", "0", "-l", text}); }
  std::string Capture() const { return Run({"capture-pane", "-p", "-t", "0"}).out; }
  std::string Format(const std::string& f) const {
    std::string out = Run({"display-message", "-p", "-t", "0", f}).out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  // Waits until the screen contains (or, with `present` false, no longer contains) `needle`.
  bool WaitFor(const std::string& needle, bool present = true, int ms = 5000) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if ((Capture().find(needle) != std::string::npos) == present) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  bool WaitForFormat(const std::string& f, const std::string& value, int ms = 5000) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Format(f) == value) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  // Starts forktop in the shell; its pid is written to `pid_file`.
  void StartForktop(const std::string& args, const std::string& pid_file = "/dev/null") const {
    Type("sh -c 'echo $$ > " + pid_file + "; exec " + BuiltBinary("forktop") + " " + args + "'");
    Keys({"Enter"});
  }
  // After forktop: is the terminal back to normal? (main screen, cursor shown, cooked mode)
  void ExpectRestored() const {
    EXPECT_TRUE(WaitForFormat("#{alternate_on}", "0")) << "still on the alternate screen";
    EXPECT_EQ(Format("#{cursor_flag}"), "1") << "cursor still hidden";
    Type("stty -a | tr ' ' '\\n' | grep -e icanon -e '^echo$' | tr '\\n' ' '; echo EN\"\"D");
    Keys({"Enter"});
    ASSERT_TRUE(WaitFor(" END\n")) << Capture();  // the output, not the typed EN""D
    const std::string screen = Capture();
    EXPECT_NE(screen.find("icanon echo END"), std::string::npos) << screen;
    EXPECT_EQ(screen.find("-icanon"), std::string::npos) << screen;
  }

 private:
  std::string socket_;
};

}  // namespace shim::testing
