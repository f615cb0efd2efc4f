// The tree model from scripted events: snapshot, fork, exec renames, exits with tombstones and
// expiry, reparenting, pid reuse, threads folded into their process, lost events, spawn rate.
#include "model/process_tree.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>

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

// The shape recomputed from scratch from the ppids, as ProcessTree did before it kept it up to
// date event by event: a process hangs below its parent if the parent is in the tree.
struct Shape {
  std::map<int32_t, std::vector<int32_t>> children;
  std::vector<int32_t> roots;
  std::map<int32_t, int> descendants;
  size_t threads = 0;
};

Shape FromScratch(const ProcessTree& tree, const std::vector<int32_t>& pids) {
  Shape s;
  for (int32_t pid : pids) {  // ascending, so every list comes out sorted by pid
    const ProcNode* n = tree.Find(pid);
    if (n == nullptr) continue;
    s.threads += n->threads.size();
    if (n->ppid != 0 && n->ppid != pid && tree.Find(n->ppid) != nullptr) {
      s.children[n->ppid].push_back(pid);
    } else {
      s.roots.push_back(pid);
    }
  }
  std::function<int(int32_t)> count = [&](int32_t pid) {
    int total = 0;
    for (int32_t kid : s.children[pid]) total += 1 + count(kid);
    return s.descendants[pid] = total;
  };
  for (int32_t root : s.roots) count(root);
  return s;
}

void ExpectShapeMatches(const ProcessTree& tree, const std::vector<int32_t>& pids) {
  const Shape s = FromScratch(tree, pids);
  EXPECT_EQ(tree.Roots(), s.roots);
  EXPECT_EQ(tree.root_nodes().size(), s.roots.size());
  EXPECT_EQ(tree.thread_count(), s.threads);
  size_t reached = s.roots.size();
  for (int32_t pid : pids) {
    const ProcNode* n = tree.Find(pid);
    if (n == nullptr) continue;
    auto kids = s.children.find(pid);
    EXPECT_EQ(tree.Children(pid), kids == s.children.end() ? std::vector<int32_t>{} : kids->second)
        << "pid " << pid;
    EXPECT_EQ(n->descendants(), s.descendants.at(pid)) << "pid " << pid;
    for (const ProcNode* kid : n->children()) EXPECT_EQ(kid->parent(), n) << "pid " << pid;
    reached += n->children().size();
  }
  EXPECT_EQ(reached, tree.size());  // every process hangs somewhere, exactly once
}

// Random but possible event sequences: forks under live or exited processes and under parents
// outside the tree (which show up later as snapshots and adopt them), pid reuse, execs, threads,
// exits that reparent to init, init itself replaced, lost events and tombstone expiry. After
// every event the incrementally kept shape must equal a recomputation.
TEST(ProcessTreeTest, IncrementalShapeEqualsRecomputation) {
  constexpr int32_t kMaxPid = 40;         // processes 1..40, pids reused
  constexpr int32_t kOutsideFirst = 900;  // parents outside the tree: 900..904
  std::vector<int32_t> pids;
  for (int32_t pid = 1; pid <= kMaxPid; ++pid) pids.push_back(pid);
  for (int32_t pid = kOutsideFirst; pid < kOutsideFirst + 5; ++pid) pids.push_back(pid);
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    ProcessTree tree(TreeOptions{.tombstone_ns = 3 * kSec});
    uint64_t now = kSec;
    int32_t next_tid = 5000;
    auto present = [&] {
      std::vector<int32_t> out;
      for (int32_t pid : pids) {
        if (tree.Find(pid) != nullptr) out.push_back(pid);
      }
      return out;
    };
    tree.Apply(Snapshot(0, 1, 0, "init"));
    for (int step = 0; step < 300; ++step) {
      now += static_cast<uint64_t>(pick(0, 400)) * 1'000'000;
      const std::vector<int32_t> known = present();
      const int32_t some = known.empty() ? 1 : known[pick(0, static_cast<int>(known.size()) - 1)];
      const int32_t pid = pick(1, kMaxPid);
      switch (pick(0, 9)) {
        case 0:
        case 1:
        case 2: {  // a fork below a process in the tree, or below one outside it
          const int32_t parent = pick(0, 4) == 0 ? kOutsideFirst + pick(0, 4) : some;
          if (pid != parent && pid != 1) tree.Apply(Fork(now, pid, parent, "p"));
          break;
        }
        case 3:
          tree.Apply(Exec(now, some, "x", "/bin/x", {"x"}));
          break;
        case 4:
        case 5:
          tree.Apply(Exit(now, some, pick(0, 1)));
          break;
        case 6:
          tree.Apply(Thread(now, next_tid++, some));
          break;
        case 7:
          tree.Apply(ThreadExit(now, pick(5000, next_tid), some));
          break;
        case 8:  // a parent outside the tree shows up (or init is replaced)
          tree.Apply(pick(0, 5) == 0 ? Snapshot(now, 1, 0, "init")
                                     : Snapshot(now, kOutsideFirst + pick(0, 4), 0, "outside"));
          break;
        case 9:
          if (pick(0, 1) == 0) {
            tree.Advance(now + static_cast<uint64_t>(pick(0, 4)) * kSec);
          } else {
            tree.Apply(Lost(now, 1));
          }
          break;
      }
      ExpectShapeMatches(tree, pids);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(ProcessTreeTest, ParentLoopsStayVisible) {
  // 10 names 11 as its parent and 11 names 10: impossible from the kernel, possible in a replay
  // file. Both stay on screen, once each; once the loop breaks the tree is the ppids' again.
  ProcessTree tree;
  tree.Apply(Fork(1, 10, 11));
  tree.Apply(Fork(2, 11, 10));
  auto ids = [&] {
    std::vector<int32_t> out;
    for (const ViewRow& r : Flatten(tree, {})) out.push_back(r.tgid);
    return out;
  };
  EXPECT_EQ(ids(), (std::vector<int32_t>{10, 11}));
  EXPECT_EQ(tree.Descendants(10), 1);
  tree.Apply(Exit(3, 11, 0));  // 10 is orphaned (no init here): top level, 11 below it
  EXPECT_EQ(tree.Find(10)->ppid, 0);
  EXPECT_EQ(ids(), (std::vector<int32_t>{10, 11}));
  ExpectShapeMatches(tree, {10, 11});
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
