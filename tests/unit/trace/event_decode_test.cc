#include "trace/event_decode.h"

#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "proc_events.h"

namespace shim::trace {
namespace {

shim_proc_event Header(uint32_t kind) {
  shim_proc_event e{};
  e.kind = kind;
  e.ts_ns = 1000;
  e.cgroup_id = 77;
  e.pid = 11;
  e.tgid = 10;
  e.parent_tgid = 1;
  std::strcpy(e.comm, "worker");
  return e;
}

TEST(EventDecodeTest, Fork) {
  shim_proc_event e = Header(SHIM_PROC_FORK);
  e.flags = SHIM_PROC_FLAG_THREAD;
  absl::StatusOr<ProcessEvent> ev = DecodeProcEvent(&e, SHIM_PROC_HEADER_SIZE);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->kind, EventKind::kFork);
  EXPECT_EQ(ev->timestamp_ns, 1000u);
  EXPECT_EQ(ev->cgroup_id, 77u);
  EXPECT_EQ(ev->pid, 11);
  EXPECT_EQ(ev->tgid, 10);
  EXPECT_EQ(ev->parent_tgid, 1);
  EXPECT_TRUE(ev->is_thread);
  EXPECT_EQ(ev->comm, "worker");
}

TEST(EventDecodeTest, ExecWithArgv) {
  shim_proc_event e = Header(SHIM_PROC_EXEC);
  std::strcpy(e.filename, "/bin/true");
  e.filename_len = sizeof("/bin/true");
  const char args[] = "true\0--flag\0x";  // three words, the last cut (no NUL)
  std::memcpy(e.args, args, sizeof(args) - 1);
  e.args_len = sizeof(args) - 1;
  absl::StatusOr<ProcessEvent> ev = DecodeProcEvent(&e, sizeof(e));
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->kind, EventKind::kExec);
  EXPECT_EQ(ev->filename, "/bin/true");
  EXPECT_EQ(ev->argv, (std::vector<std::string>{"true", "--flag", "x"}));
  EXPECT_FALSE(ev->is_thread);
}

TEST(EventDecodeTest, ExecWithEmptyArgWords) {
  shim_proc_event e = Header(SHIM_PROC_EXEC);
  const char args[] = "a\0\0b";  // "a", "", "b"
  std::memcpy(e.args, args, sizeof(args));
  e.args_len = sizeof(args);
  absl::StatusOr<ProcessEvent> ev = DecodeProcEvent(&e, sizeof(e));
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->argv, (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(ev->filename, "");  // filename_len 0: the kernel could not read it
}

TEST(EventDecodeTest, ExitStatusAndSignal) {
  shim_proc_event e = Header(SHIM_PROC_EXIT);
  e.exit_code = 3 << 8;
  absl::StatusOr<ProcessEvent> ev = DecodeProcEvent(&e, SHIM_PROC_HEADER_SIZE);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->kind, EventKind::kExit);
  EXPECT_EQ(ev->exit_code, 3);
  EXPECT_EQ(ev->exit_signal, 0);

  e.exit_code = 9;  // SIGKILL
  ev = DecodeProcEvent(&e, SHIM_PROC_HEADER_SIZE);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->exit_code, 0);
  EXPECT_EQ(ev->exit_signal, 9);

  e.exit_code = 0x80 | 11;  // SIGSEGV with a core dump
  ev = DecodeProcEvent(&e, SHIM_PROC_HEADER_SIZE);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->exit_signal, 11);
}

TEST(EventDecodeTest, RejectsWrongSizes) {
  shim_proc_event e = Header(SHIM_PROC_EXEC);
  EXPECT_FALSE(DecodeProcEvent(nullptr, 0).ok());
  EXPECT_FALSE(DecodeProcEvent(&e, 0).ok());
  EXPECT_FALSE(DecodeProcEvent(&e, SHIM_PROC_HEADER_SIZE - 1).ok());
  EXPECT_FALSE(DecodeProcEvent(&e, SHIM_PROC_HEADER_SIZE).ok());  // an exec needs its body
  EXPECT_FALSE(DecodeProcEvent(&e, sizeof(e) - 1).ok());
  e.kind = SHIM_PROC_FORK;
  EXPECT_FALSE(DecodeProcEvent(&e, sizeof(e)).ok());
  EXPECT_TRUE(DecodeProcEvent(&e, SHIM_PROC_HEADER_SIZE).ok());
}

TEST(EventDecodeTest, RejectsUnknownKindAndFlags) {
  shim_proc_event e = Header(0);
  EXPECT_FALSE(DecodeProcEvent(&e, SHIM_PROC_HEADER_SIZE).ok());
  e.kind = 4;
  EXPECT_FALSE(DecodeProcEvent(&e, SHIM_PROC_HEADER_SIZE).ok());
  e = Header(SHIM_PROC_FORK);
  e.flags = 2;
  EXPECT_FALSE(DecodeProcEvent(&e, SHIM_PROC_HEADER_SIZE).ok());
}

TEST(EventDecodeTest, RejectsUnterminatedStrings) {
  shim_proc_event e = Header(SHIM_PROC_EXEC);
  std::memset(e.comm, 'c', sizeof(e.comm));
  EXPECT_FALSE(DecodeProcEvent(&e, sizeof(e)).ok());

  e = Header(SHIM_PROC_EXEC);
  std::memset(e.filename, 'f', sizeof(e.filename));
  e.filename_len = sizeof(e.filename);
  EXPECT_FALSE(DecodeProcEvent(&e, sizeof(e)).ok());
}

TEST(EventDecodeTest, RejectsLengthsOutOfRange) {
  shim_proc_event e = Header(SHIM_PROC_EXEC);
  e.filename_len = SHIM_PROC_FILENAME_LEN + 1;
  EXPECT_FALSE(DecodeProcEvent(&e, sizeof(e)).ok());
  e = Header(SHIM_PROC_EXEC);
  e.args_len = SHIM_PROC_ARGS_LEN + 1;
  EXPECT_FALSE(DecodeProcEvent(&e, sizeof(e)).ok());
  e.args_len = 0xffff;
  EXPECT_FALSE(DecodeProcEvent(&e, sizeof(e)).ok());
}

TEST(EventDecodeTest, FullArgsBufferWithoutNul) {
  shim_proc_event e = Header(SHIM_PROC_EXEC);
  std::memset(e.args, 'a', sizeof(e.args));
  e.args_len = sizeof(e.args);
  absl::StatusOr<ProcessEvent> ev = DecodeProcEvent(&e, sizeof(e));
  ASSERT_TRUE(ev.ok()) << ev.status();
  ASSERT_EQ(ev->argv.size(), 1u);
  EXPECT_EQ(ev->argv[0], std::string(SHIM_PROC_ARGS_LEN, 'a'));
}

}  // namespace
}  // namespace shim::trace
