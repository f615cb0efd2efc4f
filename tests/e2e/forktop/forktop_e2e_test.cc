// forktop from the outside: the real binary in a real terminal (tmux), driven with send-keys and
// read with capture-pane; and its script modes (--once, --json, --record) on a replay file.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "support/subprocess.h"
#include "tmux.h"

namespace shim::testing {
namespace {

std::string Fixture() { return SourcePath("tests/data/forktop/demo.jsonl"); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ForktopTmuxTest, ShowsTheTreeAndQuitsLeavingTheTerminalSane) {
  Tmux tmux(80, 24);
  ASSERT_TRUE(tmux.WaitFor("$"));
  tmux.StartForktop("--replay " + Fixture() + " --speed 0");
  ASSERT_TRUE(tmux.WaitFor("webserver [web]")) << tmux.Capture();
  EXPECT_EQ(tmux.Format("#{alternate_on}"), "1");
  const std::string screen = tmux.Capture();
  EXPECT_NE(screen.find("live 11  exited 4"), std::string::npos) << screen;
  EXPECT_NE(screen.find("lost 3"), std::string::npos);
  EXPECT_NE(screen.find("\xE2\x94\x82  \xE2\x94\x82  \xE2\x94\x9C\xE2\x94\x80 \xE2\x96\xBE make"),
            std::string::npos)
      << screen;  // "│  │  ├─ ▾ make"
  EXPECT_NE(screen.find("cc <exit 1, lived 0.5s>"), std::string::npos);
  EXPECT_NE(screen.find("resize [jobs] <SIGKILL"), std::string::npos);
  EXPECT_NE(screen.find(" pid   1  systemd"), std::string::npos);  // details of the selection
  tmux.Keys({"q"});
  tmux.ExpectRestored();
  // The shell's screen is back as it was, with the command line that started forktop.
  EXPECT_NE(tmux.Capture().find("exec " + BuiltBinary("forktop")), std::string::npos);
}

TEST(ForktopTmuxTest, SearchCollapseAndPause) {
  Tmux tmux(80, 24);
  ASSERT_TRUE(tmux.WaitFor("$"));
  tmux.StartForktop("--replay " + Fixture() + " --speed 0");
  ASSERT_TRUE(tmux.WaitFor("webserver [web]"));

  tmux.Type("/resize");
  ASSERT_TRUE(tmux.WaitFor("/resize_")) << tmux.Capture();
  ASSERT_TRUE(tmux.WaitFor("make -j2", false)) << tmux.Capture();  // filtered out
  std::string screen = tmux.Capture();
  EXPECT_NE(screen.find("resize image-3.png"), std::string::npos) << screen;
  EXPECT_NE(screen.find("worker [jobs]"), std::string::npos);  // ancestors stay
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitFor("filter \"resize\""));
  tmux.Keys({"Escape"});
  ASSERT_TRUE(tmux.WaitFor("make -j2")) << tmux.Capture();

  // j moves to sshd, h collapses its subtree (bash, make, cc, sleep, python3 disappear).
  tmux.Keys({"j", "h"});
  ASSERT_TRUE(tmux.WaitFor("make -j2", false)) << tmux.Capture();
  EXPECT_NE(tmux.Capture().find("sshd (+6)"), std::string::npos) << tmux.Capture();
  tmux.Keys({"l"});
  ASSERT_TRUE(tmux.WaitFor("make -j2")) << tmux.Capture();

  tmux.Keys({"p"});
  ASSERT_TRUE(tmux.WaitFor("PAUSED")) << tmux.Capture();
  tmux.Keys({"p"});
  ASSERT_TRUE(tmux.WaitFor("PAUSED", false));

  tmux.Keys({"?"});
  ASSERT_TRUE(tmux.WaitFor("forktop keys"));
  tmux.Keys({"Escape"});
  ASSERT_TRUE(tmux.WaitFor("forktop keys", false));
  tmux.Keys({"q"});
  tmux.ExpectRestored();
}

TEST(ForktopTmuxTest, ResizesTo250ColumnsAndRestoresOnSigterm) {
  Tmux tmux(80, 24);
  ASSERT_TRUE(tmux.WaitFor("$"));
  const std::string pid_file =
      ::testing::TempDir() + "forktop-e2e-" + std::to_string(::getpid()) + ".pid";
  tmux.StartForktop("--replay " + Fixture() + " --speed 0", pid_file);
  ASSERT_TRUE(tmux.WaitFor("webserver [web]"));
  tmux.Run({"resize-window", "-t", "0", "-x", "250", "-y", "60"});
  // Wide: the details pane sits beside the tree, on the first tree row's line.
  ASSERT_TRUE(tmux.WaitFor("threads 2")) << tmux.Capture();
  std::string screen = tmux.Capture();
  const size_t line = screen.find("systemd  /sbin/init");
  ASSERT_NE(line, std::string::npos) << screen;
  const size_t eol = screen.find('\n', line);
  EXPECT_NE(screen.substr(line, eol - line).find("pid   1  systemd"), std::string::npos) << screen;

  const pid_t pid = std::stoi(ReadFile(pid_file));
  ASSERT_GT(pid, 1);
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  tmux.ExpectRestored();
  ::unlink(pid_file.c_str());
}

TEST(ForktopTmuxTest, StatsFileCountsEveryFrameAtExit) {
  Tmux tmux(250, 60);
  ASSERT_TRUE(tmux.WaitFor("$"));
  const std::string stats =
      ::testing::TempDir() + "forktop-stats-" + std::to_string(::getpid()) + ".json";
  tmux.StartForktop("--replay " + Fixture() + " --speed 0 --stats " + stats);
  ASSERT_TRUE(tmux.WaitFor("webserver [web]"));
  EXPECT_EQ(ReadFile(stats), "");  // created at start, written at exit
  tmux.Keys({"j", "j"});           // more frames: the selection moves to bash
  ASSERT_TRUE(tmux.WaitFor("pid   1200  bash")) << tmux.Capture();
  tmux.Keys({"q"});
  tmux.ExpectRestored();
  const nlohmann::json j = nlohmann::json::parse(ReadFile(stats));
  const int64_t frames = j["frames"];
  EXPECT_GE(frames, 2);
  ASSERT_EQ(j["frame_cpu_ns"].size(), static_cast<size_t>(frames));
  int64_t sum = 0;
  for (int64_t ns : j["frame_cpu_ns"]) {
    EXPECT_GT(ns, 0);
    sum += ns;
  }
  EXPECT_EQ(j["frame_cpu_ns_total"], sum);
  EXPECT_GE(j["process_cpu_ns"], sum);
  EXPECT_GT(j["wall_ns"], 0);
  ::unlink(stats.c_str());
}

TEST(ForktopScriptTest, VersionPrintsNameAndVersion) {
  CommandResult r = RunCommand({BuiltBinary("forktop"), "--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("forktop 0.", 0), 0u) << r.out;
}

TEST(ForktopScriptTest, OncePrintsTheTree) {
  const CommandResult r =
      RunCommand({BuiltBinary("forktop"), "--replay", Fixture(), "--once", "--ascii"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("    PID     AGE  COMMAND\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("|  |  |- make  make -j2 all\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("`- resize [jobs]  resize image-3.png\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cc  cc -c lexer.c  <exit 1>"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("webserver [web]  webserver --port 8080  {2 threads}"), std::string::npos);
}

TEST(ForktopScriptTest, JsonAndRecordReproduceTheEvents) {
  const std::string record =
      ::testing::TempDir() + "forktop-record-" + std::to_string(::getpid()) + ".jsonl";
  const CommandResult r = RunCommand({BuiltBinary("forktop"), "--replay", Fixture(), "--json",
                                      "--speed", "0", "--record", record});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string original = ReadFile(Fixture());
  // Same events, same order (re-serialised by ToJsonLine), and the recording equals the output.
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'),
            std::count(original.begin(), original.end(), '\n'));
  EXPECT_EQ(ReadFile(record), r.out);
  EXPECT_NE(r.out.find("\"event\":\"lost\""), std::string::npos);
  // The recording replays like the original.
  const CommandResult again =
      RunCommand({BuiltBinary("forktop"), "--replay", record, "--once", "--ascii"});
  const CommandResult first =
      RunCommand({BuiltBinary("forktop"), "--replay", Fixture(), "--once", "--ascii"});
  EXPECT_EQ(again.out, first.out);
  ::unlink(record.c_str());
}

TEST(ForktopScriptTest, UsageErrorsExitWithTwo) {
  EXPECT_EQ(RunCommand({BuiltBinary("forktop"), "--json", "--once"}).exit_code, 2);
  EXPECT_EQ(RunCommand({BuiltBinary("forktop"), "--replay", "/nonexistent.jsonl"}).exit_code, 2);
  // The interactive UI needs a terminal; a pipe is refused with a hint.
  const CommandResult r = RunCommand({BuiltBinary("forktop"), "--replay", Fixture()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not a terminal"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace shim::testing
