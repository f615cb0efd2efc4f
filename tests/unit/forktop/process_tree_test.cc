// The tree model from scripted events: snapshot, fork, exec renames, exits with tombstones and
// expiry, reparenting, pid reuse, threads folded into their process, lost events, spawn rate.
#include "model/process_tree.h"

#include <gtest/gtest.h>

#include "events.h"
#include "model/tree_view.h"

namespace shim::forktop {
namespace {

using namespace testing;  // NOLINT: the scripted event builders

ProcessTree Scripted() {
  ProcessTree tree;
  tree.Apply(Snapshot(0, 1, 0, "init", {"/sbin/init"}));
  tree.Apply(Snapshot(1 * kSec, 100, 1, "bash", {"bash"}));
  tree.Apply(Fork(10 * kSec, 200, 100, "bash"));
  tree.Apply(Exec(10 * kSec + 1, 200, "make", "/usr/bin/make", {"make", "-j2"}));
  tree.Apply(Fork(11 * kSec, 300, 200, "make"));
  tree.Apply(Exec(11 * kSec + 1, 300, "cc", "/usr/bin/cc", {"cc", "a.c"}));
  tree.Apply(Fork(11 * kSec + 5, 301, 200, "make"));
  return tree;
}

TEST(ProcessTreeTest, BuildsTheTreeFromSnapshotForkAndExec) {
  ProcessTree tree = Scripted();
  EXPECT_EQ(tree.Roots(), (std::vector<int32_t>{1}));
  EXPECT_EQ(tree.Children(1), (std::vector<int32_t>{100}));
  EXPECT_EQ(tree.Children(200), (std::vector<int32_t>{300, 301}));
  EXPECT_EQ(tree.Find(300)->Name(), "cc");
  EXPECT_EQ(CommandLine(*tree.Find(300)), "cc a.c");
  // A fork without exec shows its parent's command.
  EXPECT_EQ(tree.Find(301)->Name(), "make");
  EXPECT_EQ(CommandLine(*tree.Find(301)), "make -j2");
  EXPECT_EQ(tree.Descendants(1), 4);
  EXPECT_EQ(tree.live_count(), 5u);
  EXPECT_EQ(tree.spawns(), 3u);  // snapshots are not spawns
  EXPECT_TRUE(tree.Find(100)->from_snapshot);
}

TEST(ProcessTreeTest, ExitLeavesATombstoneThatExpires) {
  ProcessTree tree = Scripted();
  tree.Apply(Exit(12 * kSec, 300, 2));
  tree.Apply(Exit(12 * kSec + 1, 301, 0, 9));
  const ProcNode* cc = tree.Find(300);
  ASSERT_NE(cc, nullptr);
  EXPECT_TRUE(cc->exited);
  EXPECT_EQ(FormatExit(*cc), "exit 2");
  EXPECT_EQ(FormatExit(*tree.Find(301)), "SIGKILL");
  EXPECT_EQ(FormatDuration(cc->Lifetime(tree.now_ns())), "1.0s");
  EXPECT_EQ(tree.live_count(), 3u);
  EXPECT_EQ(tree.exited_count(), 2u);
  tree.Advance(21 * kSec);  // 9 s later: still shown
  EXPECT_NE(tree.Find(300), nullptr);
  tree.Advance(22 * kSec + 1);  // 10 s: gone
  EXPECT_EQ(tree.Find(300), nullptr);
  EXPECT_EQ(tree.Find(301), nullptr);
  EXPECT_TRUE(tree.Children(200).empty());
}

TEST(ProcessTreeTest, ChildrenOfAnExitedParentMoveToInit) {
  ProcessTree tree = Scripted();
  tree.Apply(Exit(12 * kSec, 200, 0));
  EXPECT_EQ(tree.Find(300)->ppid, 1);
  EXPECT_EQ(tree.Find(300)->original_ppid, 200);
  EXPECT_EQ(tree.Children(1), (std::vector<int32_t>{100, 300, 301}));
  EXPECT_EQ(tree.Children(100), (std::vector<int32_t>{200}));  // the tombstone stays in place
  // Without init in the tree (a subtree scope) orphans go to the top level.
  ProcessTree scoped;
  scoped.Apply(Fork(1, 10, 5));
  scoped.Apply(Fork(2, 11, 10));
  scoped.Apply(Exit(3, 10, 0));
  EXPECT_EQ(scoped.Roots(), (std::vector<int32_t>{10, 11}));
}

TEST(ProcessTreeTest, PidReuseReplacesTheTombstone) {
  ProcessTree tree = Scripted();
  tree.Apply(Exit(12 * kSec, 300, 1));
  tree.Apply(Fork(13 * kSec, 300, 100, "bash"));
  const ProcNode* n = tree.Find(300);
  EXPECT_FALSE(n->exited);
  EXPECT_EQ(n->ppid, 100);
  EXPECT_EQ(n->start_ns, 13 * kSec);
  EXPECT_EQ(tree.Children(200), (std::vector<int32_t>{301}));
  // The old tombstone's expiry does not remove the new process.
  tree.Advance(23 * kSec);
  ASSERT_NE(tree.Find(300), nullptr);
  EXPECT_FALSE(tree.Find(300)->exited);
}

TEST(ProcessTreeTest, ThreadsAreFoldedIntoTheirProcess) {
  ProcessTree tree = Scripted();
  tree.Apply(Thread(12 * kSec, 302, 300));
  tree.Apply(Thread(12 * kSec, 303, 300));
  EXPECT_EQ(tree.Find(300)->threads.size(), 2u);
  EXPECT_EQ(tree.Find(302), nullptr);  // a thread is not a node
  EXPECT_EQ(tree.thread_count(), 2u);
  tree.Apply(ThreadExit(13 * kSec, 302, 300));
  EXPECT_EQ(tree.Find(300)->threads, (std::set<int32_t>{303}));
  EXPECT_FALSE(tree.Find(300)->exited);
  EXPECT_EQ(tree.spawns(), 3u);  // threads are not spawns
}

TEST(ProcessTreeTest, LostEventsAndSpawnRate) {
  ProcessTree tree;
  for (int i = 0; i < 50; ++i) tree.Apply(Fork(kSec + i * (kSec / 10), 1000 + i, 1));
  tree.Apply(Lost(6 * kSec, 7));
  tree.Apply(Lost(6 * kSec, 3));
  EXPECT_EQ(tree.lost(), 10u);
  // 50 forks over 5 s, all within the 5 s window ending at 6 s.
  EXPECT_DOUBLE_EQ(tree.SpawnRate(), 10.0);
  tree.Advance(100 * kSec);
  EXPECT_DOUBLE_EQ(tree.SpawnRate(), 0.0);
}

TEST(ProcessTreeTest, EntrypointFromCgroupPath) {
  EXPECT_EQ(EntrypointFromCgroupPath("/shim-bpf/run-1/web/sub"), "web");
  EXPECT_EQ(EntrypointFromCgroupPath("/user.slice/shim-bpf/r2/db"), "db");
  EXPECT_EQ(EntrypointFromCgroupPath("/shim-bpf/r2"), "");
  EXPECT_EQ(EntrypointFromCgroupPath("/other"), "");
}

TEST(TreeViewTest, FlattenSortsCollapsesAndFilters) {
  ProcessTree tree = Scripted();
  ViewOptions opts;
  opts.ascii = true;
  auto ids = [&] {
    std::vector<int32_t> out;
    for (const ViewRow& r : Flatten(tree, opts)) out.push_back(r.tgid);
    return out;
  };
  EXPECT_EQ(ids(), (std::vector<int32_t>{1, 100, 200, 300, 301}));
  const auto rows = Flatten(tree, opts);
  EXPECT_EQ(rows[3].prefix, "      |- ");
  EXPECT_EQ(rows[4].prefix, "      `- ");
  opts.sort = SortKey::kName;  // cc before make
  EXPECT_EQ(ids(), (std::vector<int32_t>{1, 100, 200, 300, 301}));
  opts.sort = SortKey::kAge;
  EXPECT_EQ(ids(), (std::vector<int32_t>{1, 100, 200, 300, 301}));
  opts.collapsed = {200};
  EXPECT_EQ(ids(), (std::vector<int32_t>{1, 100, 200}));
  EXPECT_TRUE(Flatten(tree, opts)[2].collapsed);
  // A filter shows matches and their ancestors, even inside collapsed subtrees.
  opts.filter = "CC";
  EXPECT_EQ(ids(), (std::vector<int32_t>{1, 100, 200, 300}));
  EXPECT_FALSE(Flatten(tree, opts)[2].match);
  EXPECT_TRUE(Flatten(tree, opts)[3].match);
}

TEST(TreeViewTest, TreeTextForOnce) {
  ProcessTree tree = Scripted();
  tree.Apply(Exit(12 * kSec, 301, 0, 15));
  ViewOptions opts;
  opts.ascii = true;
  const auto lines = TreeText(tree, opts);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0], "    PID     AGE  COMMAND");
  EXPECT_EQ(lines[1], "      1   12.0s  init  /sbin/init");
  EXPECT_EQ(lines[4], "    300    1.0s        |- cc  cc a.c");
  EXPECT_EQ(lines[5], "    301    1.0s        `- make  make -j2  <SIGTERM>");
}

}  // namespace
}  // namespace shim::forktop
