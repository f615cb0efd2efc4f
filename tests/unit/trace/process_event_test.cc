#include "trace/process_event.h"

#include "gtest/gtest.h"

namespace shim::trace {
namespace {

TEST(ProcessEventTest, ExecRoundTrips) {
  ProcessEvent exec;
  exec.kind = EventKind::kExec;
  exec.timestamp_ns = 123456789;
  exec.pid = exec.tgid = 42;
  exec.parent_tgid = 1;
  exec.cgroup_id = 77;
  exec.comm = "ls";
  exec.filename = "/bin/ls";
  exec.argv = {"ls", "-l"};
  exec.entrypoint = "handler";
  std::string line = ToJsonLine(exec);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  absl::StatusOr<ProcessEvent> back = FromJsonLine(line);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->kind, EventKind::kExec);
  EXPECT_EQ(back->timestamp_ns, 123456789u);
  EXPECT_EQ(back->pid, 42);
  EXPECT_EQ(back->parent_tgid, 1);
  EXPECT_EQ(back->cgroup_id, 77u);
  EXPECT_EQ(back->filename, "/bin/ls");
  EXPECT_EQ(back->argv, (std::vector<std::string>{"ls", "-l"}));
  EXPECT_EQ(back->entrypoint, "handler");
}

TEST(ProcessEventTest, ExitCarriesCodeAndSignal) {
  ProcessEvent exit;
  exit.kind = EventKind::kExit;
  exit.pid = 7;
  exit.tgid = 5;
  exit.is_thread = true;
  exit.exit_signal = 9;
  absl::StatusOr<ProcessEvent> back = FromJsonLine(ToJsonLine(exit));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->is_thread);
  EXPECT_EQ(back->exit_signal, 9);
  EXPECT_EQ(back->tgid, 5);
}

TEST(ProcessEventTest, LostCountsSurvive) {
  ProcessEvent lost;
  lost.kind = EventKind::kLost;
  lost.lost = 1234;
  absl::StatusOr<ProcessEvent> back = FromJsonLine(ToJsonLine(lost));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->kind, EventKind::kLost);
  EXPECT_EQ(back->lost, 1234u);
}

TEST(ProcessEventTest, NonUtf8CommIsReplacedNotThrown) {
  ProcessEvent fork;
  fork.comm = std::string("a\xff\xfe", 3);
  absl::StatusOr<ProcessEvent> back = FromJsonLine(ToJsonLine(fork));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->comm.substr(0, 1), "a");
}

TEST(ProcessEventTest, BadLinesAreErrorsNamingTheProblem) {
  EXPECT_FALSE(FromJsonLine("").ok());
  EXPECT_FALSE(FromJsonLine("[1,2]").ok());
  absl::StatusOr<ProcessEvent> unknown = FromJsonLine(R"({"event":"teleport"})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("teleport"), std::string::npos);
  absl::StatusOr<ProcessEvent> wrong = FromJsonLine(R"({"event":"fork","pid":"x"})");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("pid"), std::string::npos);
}

TEST(ProcessEventTest, UnknownFieldsAreIgnored) {
  absl::StatusOr<ProcessEvent> e = FromJsonLine(R"({"event":"fork","pid":3,"future":1})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->pid, 3);
}

}  // namespace
}  // namespace shim::trace
