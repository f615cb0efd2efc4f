#include "trace/proc_snapshot.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <string>

#include "gtest/gtest.h"
#include "trace/tracer.h"

namespace shim::trace {
namespace {

TEST(ProcSnapshotTest, ParsesStatWithAwkwardComm) {
  absl::StatusOr<ProcStat> st = ParseProcStat(
      "1234 (a b) c)) S 77 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n");
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->pid, 1234);
  EXPECT_EQ(st->comm, "a b) c)");
  EXPECT_EQ(st->ppid, 77);
  EXPECT_EQ(st->start_ticks, 98765u);
}

TEST(ProcSnapshotTest, RejectsMalformedStat) {
  EXPECT_FALSE(ParseProcStat("").ok());
  EXPECT_FALSE(ParseProcStat("12 (x").ok());
  EXPECT_FALSE(ParseProcStat("12 (x) S 1").ok());
  EXPECT_FALSE(ParseProcStat("x (y) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20").ok());
}

TEST(ProcSnapshotTest, ParsesCgroup2Line) {
  absl::StatusOr<std::string> path =
      ParseCgroup2Path("12:memory:/process_api/x\n0::/a/b\n1:name=systemd:/\n");
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, "/a/b");
  EXPECT_FALSE(ParseCgroup2Path("4:pids:/\n").ok());
}

ProcessEvent Proc(int32_t pid, int32_t ppid) {
  ProcessEvent e;
  e.kind = EventKind::kSnapshot;
  e.pid = e.tgid = pid;
  e.parent_tgid = ppid;
  return e;
}

TEST(ProcSnapshotTest, OrdersParentsBeforeChildren) {
  // A child with a lower pid than its parent (pid wrap) must still come after it.
  std::vector<ProcessEvent> ordered =
      OrderParentsFirst({Proc(5, 900), Proc(900, 1), Proc(1, 0), Proc(3, 1), Proc(7, 5)});
  std::vector<int32_t> pids;
  for (const ProcessEvent& e : ordered) pids.push_back(e.tgid);
  EXPECT_EQ(pids, (std::vector<int32_t>{1, 3, 900, 5, 7}));
}

TEST(ProcSnapshotTest, FindsThisProcessAndAChild) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until the child has exec'd. The comm changes before the new image's argv is in place
  // (setup_new_exec runs before the ELF loader fills in mm->arg_start), so wait for both.
  absl::StatusOr<std::vector<ProcessEvent>> snap;
  const ProcessEvent* me = nullptr;
  const ProcessEvent* kid = nullptr;
  for (int i = 0; i < 200; ++i) {
    snap = SnapshotProcesses(Scope{Scope::kSubtree, getpid(), 0});
    ASSERT_TRUE(snap.ok()) << snap.status();
    me = kid = nullptr;
    for (const ProcessEvent& e : *snap) {
      if (e.tgid == getpid()) me = &e;
      if (e.tgid == child) kid = &e;
    }
    if (kid != nullptr && kid->comm == "sleep" && !kid->argv.empty()) break;
    usleep(10000);
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);

  ASSERT_NE(me, nullptr);
  ASSERT_NE(kid, nullptr);
  EXPECT_EQ(me->kind, EventKind::kSnapshot);
  EXPECT_EQ(me->parent_tgid, getppid());
  EXPECT_EQ(kid->parent_tgid, getpid());
  EXPECT_EQ(kid->comm, "sleep");
  EXPECT_EQ(kid->argv, (std::vector<std::string>{"sleep", "30"}));
  EXPECT_NE(kid->cgroup_id, 0u);
  EXPECT_GT(kid->timestamp_ns, 0u);
  // The subtree is rooted at this process: it comes first, and nothing outside it is listed.
  EXPECT_EQ(snap->front().tgid, getpid());
  EXPECT_EQ(snap->size(), 2u);
  EXPECT_LT(me, kid);
}

TEST(ProcSnapshotTest, AllScopeOrdersParentsFirst) {
  absl::StatusOr<std::vector<ProcessEvent>> snap = SnapshotProcesses(Scope{});
  ASSERT_TRUE(snap.ok()) << snap.status();
  ASSERT_GT(snap->size(), 1u);
  std::vector<int32_t> seen;
  bool found_self = false;
  for (const ProcessEvent& e : *snap) {
    // The parent, when listed at all, was listed before.
    bool parent_listed = std::any_of(
        snap->begin(), snap->end(), [&](const ProcessEvent& p) { return p.tgid == e.parent_tgid; });
    if (parent_listed) {
      EXPECT_NE(std::find(seen.begin(), seen.end(), e.parent_tgid), seen.end()) << e.tgid;
    }
    seen.push_back(e.tgid);
    if (e.tgid == getpid()) {
      found_self = true;
      EXPECT_FALSE(e.argv.empty());
      EXPECT_NE(e.filename.find("proc_snapshot_test"), std::string::npos) << e.filename;
    }
  }
  EXPECT_TRUE(found_self);
}

}  // namespace
}  // namespace shim::trace
