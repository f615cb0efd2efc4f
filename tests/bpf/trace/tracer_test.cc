// The process tracer against real processes: a known tree (forks, a thread, execs with argv,
// exit codes and signals) seen exactly, in each scope, and drops counted rather than lost.
#include "trace/tracer.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cgroup/cgroup2.h"
#include "support/privileged.h"

namespace shim::trace {
namespace {

// A forked child that runs `body` once the test writes to its go pipe (so the tracer can be
// started, or the child moved into a cgroup, first). Reaped on destruction.
class Waiting {
 public:
  explicit Waiting(const std::function<int()>& body) {
    int go[2];
    if (pipe(go) != 0) std::abort();
    pid_ = fork();
    if (pid_ == 0) {
      close(go[1]);
      char b;
      if (read(go[0], &b, 1) != 1) _exit(124);
      _exit(body());
    }
    close(go[0]);
    go_ = go[1];
  }
  ~Waiting() {
    if (go_ >= 0) close(go_);
    if (!reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  void Go() {
    char b = 1;
    if (write(go_, &b, 1) != 1) std::abort();
    close(go_);
    go_ = -1;
  }
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
  bool reaped_ = false;
};

// Consumes every ~10 ms (the producer never wakes us) until `done` holds or `limit` passes.
std::vector<ProcessEvent> ConsumeUntil(
    Tracer& tracer, const std::function<bool(const std::vector<ProcessEvent>&)>& done,
    std::chrono::seconds limit = std::chrono::seconds(20)) {
  std::vector<ProcessEvent> events;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{tracer.fd(), POLLIN, 0};
    poll(&p, 1, 10);
    absl::Status s = tracer.Consume([&](const ProcessEvent& e) { events.push_back(e); });
    EXPECT_TRUE(s.ok()) << s;
    if (done(events)) break;
  }
  return events;
}

bool HasExitOf(const std::vector<ProcessEvent>& events, int32_t pid) {
  return std::any_of(events.begin(), events.end(), [&](const ProcessEvent& e) {
    return e.kind == EventKind::kExit && e.pid == pid && !e.is_thread;
  });
}

// The known tree: the root makes a thread, then forks 5 children that exec known programs
// (three /bin/true, one shell that exits 3, one shell that SIGKILLs itself), reaps them and
// exits 0. It reports the thread id and the children's pids through `report`.
constexpr int kKids = 5;
struct TreeReport {
  pid_t thread;
  pid_t kids[kKids];
};

pid_t g_thread_tid = 0;

int TreeRoot(int report_fd) {
  pthread_t t;
  pthread_create(
      &t, nullptr,
      [](void*) -> void* {
        g_thread_tid = static_cast<pid_t>(syscall(SYS_gettid));
        return nullptr;
      },
      nullptr);
  pthread_join(t, nullptr);
  TreeReport report{};
  report.thread = g_thread_tid;
  for (int i = 0; i < kKids; ++i) {
    pid_t kid = fork();
    if (kid == 0) {
      std::string tag = "kid" + std::to_string(i);
      if (i == 3) execl("/bin/sh", "sh", "-c", "exit 3", nullptr);
      if (i == 4) execl("/bin/sh", "sh", "-c", "kill -9 $$", nullptr);
      execl("/bin/true", "true", tag.c_str(), "--x", nullptr);
      _exit(127);
    }
    report.kids[i] = kid;
  }
  for (int i = 0; i < kKids; ++i) waitpid(report.kids[i], nullptr, 0);
  if (write(report_fd, &report, sizeof(report)) != sizeof(report)) return 1;
  return 0;
}

// Runs the known tree under `scope_of(root pid)` and checks every event of it exactly. A sibling
// process outside the tree also execs: `sibling_visible` says whether the scope includes it.
void CheckKnownTree(const std::function<Scope(pid_t)>& scope_of, bool sibling_visible) {
  int report[2];
  ASSERT_EQ(pipe(report), 0);
  Waiting root([&] { return TreeRoot(report[1]); });
  Waiting sibling([] {
    execl("/bin/true", "true", "sibling", nullptr);
    return 127;
  });
  close(report[1]);

  absl::StatusOr<std::unique_ptr<Tracer>> tracer = Tracer::Start(scope_of(root.pid()));
  ASSERT_TRUE(tracer.ok()) << tracer.status();
  root.Go();
  sibling.Go();
  ASSERT_EQ(root.Wait(), 0);
  ASSERT_EQ(sibling.Wait(), 0);
  TreeReport r{};
  ASSERT_EQ(read(report[0], &r, sizeof(r)), static_cast<ssize_t>(sizeof(r)));
  close(report[0]);

  std::vector<ProcessEvent> all = ConsumeUntil(**tracer, [&](const std::vector<ProcessEvent>& ev) {
    return HasExitOf(ev, root.pid()) && (!sibling_visible || HasExitOf(ev, sibling.pid()));
  });
  EXPECT_EQ((*tracer)->lost(), 0u);

  std::set<int32_t> tree{root.pid()};
  for (pid_t kid : r.kids) tree.insert(kid);
  std::vector<ProcessEvent> events;
  bool saw_sibling = false;
  for (const ProcessEvent& e : all) {
    EXPECT_NE(e.kind, EventKind::kLost);
    if (tree.count(e.tgid) != 0) events.push_back(e);
    if (e.tgid == sibling.pid()) saw_sibling = true;
  }
  EXPECT_EQ(saw_sibling, sibling_visible);

  auto find = [&](EventKind kind, int32_t pid) -> const ProcessEvent* {
    const ProcessEvent* found = nullptr;
    for (const ProcessEvent& e : events) {
      if (e.kind == kind && e.pid == pid) {
        EXPECT_EQ(found, nullptr) << "two " << EventKindName(kind) << " events for " << pid;
        found = &e;
      }
    }
    return found;
  };

  // The thread: a fork and an exit marked as a thread of the root.
  const ProcessEvent* tfork = find(EventKind::kFork, r.thread);
  const ProcessEvent* texit = find(EventKind::kExit, r.thread);
  ASSERT_NE(tfork, nullptr);
  ASSERT_NE(texit, nullptr);
  EXPECT_TRUE(tfork->is_thread);
  EXPECT_EQ(tfork->tgid, root.pid());
  EXPECT_EQ(tfork->parent_tgid, root.pid());
  EXPECT_TRUE(texit->is_thread);
  EXPECT_EQ(texit->tgid, root.pid());
  EXPECT_LT(tfork, texit);

  const std::vector<std::vector<std::string>> argv = {{"true", "kid0", "--x"},
                                                      {"true", "kid1", "--x"},
                                                      {"true", "kid2", "--x"},
                                                      {"sh", "-c", "exit 3"},
                                                      {"sh", "-c", "kill -9 $$"}};
  for (int i = 0; i < kKids; ++i) {
    SCOPED_TRACE("kid " + std::to_string(i));
    const pid_t kid = r.kids[i];
    const ProcessEvent* fork = find(EventKind::kFork, kid);
    const ProcessEvent* exec = find(EventKind::kExec, kid);
    const ProcessEvent* exit = find(EventKind::kExit, kid);
    ASSERT_NE(fork, nullptr);
    ASSERT_NE(exec, nullptr);
    ASSERT_NE(exit, nullptr);
    EXPECT_LT(fork, exec);
    EXPECT_LT(exec, exit);
    EXPECT_LE(fork->timestamp_ns, exec->timestamp_ns);
    EXPECT_LE(exec->timestamp_ns, exit->timestamp_ns);
    for (const ProcessEvent* e : {fork, exec, exit}) {
      EXPECT_EQ(e->tgid, kid);
      EXPECT_EQ(e->parent_tgid, root.pid());
      EXPECT_FALSE(e->is_thread);
      EXPECT_NE(e->cgroup_id, 0u);
    }
    EXPECT_EQ(exec->filename, i < 3 ? "/bin/true" : "/bin/sh");
    EXPECT_EQ(exec->comm, i < 3 ? "true" : "sh");
    EXPECT_EQ(exec->argv, argv[i]);
    EXPECT_EQ(exit->exit_code, i == 3 ? 3 : 0);
    EXPECT_EQ(exit->exit_signal, i == 4 ? SIGKILL : 0);
  }
  const ProcessEvent* rexit = find(EventKind::kExit, root.pid());
  ASSERT_NE(rexit, nullptr);
  EXPECT_FALSE(rexit->is_thread);
  EXPECT_EQ(rexit->parent_tgid, getpid());
  EXPECT_EQ(rexit->exit_code, 0);
  EXPECT_EQ(rexit->exit_signal, 0);
  EXPECT_EQ(events.back().kind, EventKind::kExit);
  EXPECT_EQ(events.back().pid, root.pid());
  // Exactly: thread fork+exit, 5 x (fork, exec, exit), the root's exit. Nothing else.
  EXPECT_EQ(events.size(), 2u + 3u * kKids + 1u);
  for (const ProcessEvent& e : events) {
    EXPECT_TRUE(e.kind != EventKind::kExec || e.pid != root.pid()) << "the root never execs";
  }
}

TEST(TracerBpf, RejectsBadOptions) {
  EXPECT_FALSE(Tracer::Start(Scope{}, TracerOptions{.ring_buffer_bytes = 5000}).ok());
  EXPECT_FALSE(Tracer::Start(Scope{}, TracerOptions{.ring_buffer_bytes = 0}).ok());
  EXPECT_FALSE(Tracer::Start(Scope{Scope::kCgroup, 0, 0}).ok());
  EXPECT_FALSE(Tracer::Start(Scope{Scope::kSubtree, 0, 0}).ok());
}

size_t OpenFds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

TEST(TracerBpf, ReleasesEveryKernelObjectOnDestruction) {
  SHIM_REQUIRE_PRIVILEGED();
  const size_t before = OpenFds();
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::unique_ptr<Tracer>> tracer = Tracer::Start(Scope{});
    ASSERT_TRUE(tracer.ok()) << tracer.status();
    EXPECT_GT(OpenFds(), before);  // programs, links, maps, the epoll fd
    ASSERT_TRUE((*tracer)->Consume([](const ProcessEvent&) {}).ok());
  }
  EXPECT_EQ(OpenFds(), before);
}

TEST(TracerBpf, SubtreeScopeSeesTheKnownTreeExactlyAndNotItsSibling) {
  SHIM_REQUIRE_PRIVILEGED();
  CheckKnownTree([](pid_t root) { return Scope{Scope::kSubtree, root, 0}; }, false);
}

TEST(TracerBpf, AllScopeSeesTheKnownTreeAndItsSibling) {
  SHIM_REQUIRE_PRIVILEGED();
  CheckKnownTree([](pid_t) { return Scope{}; }, true);
}

TEST(TracerBpf, SubtreeScopeFollowsDescendantsThatExistedBeforeStart) {
  SHIM_REQUIRE_PRIVILEGED();
  // root -> middle (already running when the tracer starts) -> /bin/true after Go.
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  Waiting root([&] {
    pid_t middle = fork();
    if (middle == 0) {
      char b;
      if (read(go[0], &b, 1) != 1) _exit(124);
      execl("/bin/true", "true", "late", nullptr);
      _exit(127);
    }
    int status = 0;
    waitpid(middle, &status, 0);
    return 0;
  });
  close(go[0]);
  root.Go();
  // Wait for the middle process to exist.
  pid_t middle = 0;
  for (int i = 0; i < 500 && middle == 0; ++i) {
    absl::StatusOr<std::vector<ProcessEvent>> snap =
        SnapshotProcesses(Scope{Scope::kSubtree, root.pid(), 0});
    ASSERT_TRUE(snap.ok()) << snap.status();
    if (snap->size() == 2)
      middle = snap->back().tgid;
    else
      usleep(2000);
  }
  ASSERT_NE(middle, 0);
  absl::StatusOr<std::unique_ptr<Tracer>> tracer =
      Tracer::Start(Scope{Scope::kSubtree, root.pid(), 0});
  ASSERT_TRUE(tracer.ok()) << tracer.status();
  char b = 1;
  ASSERT_EQ(write(go[1], &b, 1), 1);
  close(go[1]);
  ASSERT_EQ(root.Wait(), 0);
  std::vector<ProcessEvent> events = ConsumeUntil(
      **tracer, [&](const std::vector<ProcessEvent>& ev) { return HasExitOf(ev, root.pid()); });
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, EventKind::kExec);
  EXPECT_EQ(events[0].pid, middle);
  EXPECT_EQ(events[0].argv, (std::vector<std::string>{"true", "late"}));
  EXPECT_EQ(events[1].kind, EventKind::kExit);
  EXPECT_EQ(events[1].pid, middle);
  EXPECT_EQ(events[2].kind, EventKind::kExit);
  EXPECT_EQ(events[2].pid, root.pid());
}

TEST(TracerBpf, CgroupScopeSeesOnlyItsCgroupAndDescendants) {
  SHIM_REQUIRE_PRIVILEGED();
  absl::StatusOr<std::string> own = OwnCgroup2Dir();
  ASSERT_TRUE(own.ok()) << own.status();
  absl::StatusOr<OwnedCgroup> cgroup =
      OwnedCgroup::Create(*own, "shim-bpf-test-tracer-" + std::to_string(getpid()));
  ASSERT_TRUE(cgroup.ok()) << cgroup.status();
  absl::StatusOr<OwnedCgroup> sub = OwnedCgroup::Create(cgroup->path(), "sub");
  ASSERT_TRUE(sub.ok()) << sub.status();

  Waiting inside([] {
    pid_t kid = fork();
    if (kid == 0) {
      execl("/bin/true", "true", "inside", nullptr);
      _exit(127);
    }
    int status = 0;
    waitpid(kid, &status, 0);
    return 0;
  });
  Waiting nested([] {
    execl("/bin/true", "true", "nested", nullptr);
    return 127;
  });
  Waiting outside([] {
    execl("/bin/true", "true", "outside", nullptr);
    return 127;
  });
  ASSERT_TRUE(cgroup->AddProcess(inside.pid()).ok());
  ASSERT_TRUE(sub->AddProcess(nested.pid()).ok());

  // The /proc snapshot of the same scope: exactly the two waiting processes, with their ids.
  absl::StatusOr<std::vector<ProcessEvent>> snap =
      SnapshotProcesses(Scope{Scope::kCgroup, 0, cgroup->id()});
  ASSERT_TRUE(snap.ok()) << snap.status();
  std::map<int32_t, uint64_t> snapped;
  for (const ProcessEvent& e : *snap) snapped[e.tgid] = e.cgroup_id;
  EXPECT_EQ(snapped,
            (std::map<int32_t, uint64_t>{{inside.pid(), cgroup->id()}, {nested.pid(), sub->id()}}));

  absl::StatusOr<std::unique_ptr<Tracer>> tracer =
      Tracer::Start(Scope{Scope::kCgroup, 0, cgroup->id()});
  ASSERT_TRUE(tracer.ok()) << tracer.status();
  outside.Go();
  ASSERT_EQ(outside.Wait(), 0);
  inside.Go();
  nested.Go();
  ASSERT_EQ(inside.Wait(), 0);
  ASSERT_EQ(nested.Wait(), 0);
  std::vector<ProcessEvent> events =
      ConsumeUntil(**tracer, [&](const std::vector<ProcessEvent>& ev) {
        return HasExitOf(ev, inside.pid()) && HasExitOf(ev, nested.pid());
      });

  // inside: fork of its kid, the kid's exec and exit, its own exit; nested: exec and exit.
  int32_t kid = 0;
  std::multiset<std::string> seen;
  for (const ProcessEvent& e : events) {
    if (e.kind == EventKind::kFork) kid = e.pid;
    const bool in_sub = e.tgid == nested.pid();
    EXPECT_EQ(e.cgroup_id, in_sub ? sub->id() : cgroup->id()) << ToJsonLine(e);
    EXPECT_NE(e.tgid, outside.pid()) << "a process outside the cgroup was traced";
    std::string who = e.tgid == inside.pid() ? "inside" : in_sub ? "nested" : "kid";
    seen.insert(who + ":" + std::string(EventKindName(e.kind)));
  }
  EXPECT_NE(kid, 0);
  EXPECT_EQ(seen, (std::multiset<std::string>{"kid:fork", "kid:exec", "kid:exit", "inside:exit",
                                              "nested:exec", "nested:exit"}));
}

TEST(TracerBpf, DropsAreCountedAndReported) {
  SHIM_REQUIRE_PRIVILEGED();
  constexpr int kExecs = 200;
  Waiting root([] {
    for (int i = 0; i < kExecs; ++i) {
      pid_t kid = fork();
      if (kid == 0) {
        execl("/bin/true", "true", nullptr);
        _exit(127);
      }
      waitpid(kid, nullptr, 0);
    }
    return 0;
  });
  absl::StatusOr<std::unique_ptr<Tracer>> tracer = Tracer::Start(
      Scope{Scope::kSubtree, root.pid(), 0}, TracerOptions{.ring_buffer_bytes = 4096});
  ASSERT_TRUE(tracer.ok()) << tracer.status();
  root.Go();
  ASSERT_EQ(root.Wait(), 0);  // nothing is consumed while the burst runs

  uint64_t received = 0;
  uint64_t reported_lost = 0;
  int lost_events = 0;
  std::vector<ProcessEvent> kinds;
  ASSERT_TRUE((*tracer)
                  ->Consume([&](const ProcessEvent& e) {
                    if (e.kind == EventKind::kLost) {
                      reported_lost += e.lost;
                      ++lost_events;
                    } else {
                      ++received;
                    }
                  })
                  .ok());
  // A second consume finds nothing new and reports no new loss.
  ASSERT_TRUE((*tracer)->Consume([&](const ProcessEvent&) { ++received; }).ok());
  const uint64_t produced = 3 * kExecs + 1;  // fork, exec, exit per kid; the root's exit
  EXPECT_GT((*tracer)->lost(), 0u);
  EXPECT_EQ(lost_events, 1);
  EXPECT_EQ(reported_lost, (*tracer)->lost());
  EXPECT_GT(received, 0u);
  EXPECT_EQ(received + reported_lost, produced);
}

TEST(TracerBpf, StormOfTwentyThousandProcessesIsSeenWholeWithNothingLost) {
  SHIM_REQUIRE_PRIVILEGED();
  // root -> kBranches branches (concurrent) -> kLeaves leaves each (one after another). Every
  // kExecEvery-th leaf execs /bin/true with its index as argv[1]; the others exit with
  // (index % 200). The k-th fork by a branch is its leaf k, since a branch reaps each leaf
  // before forking the next.
  constexpr int kBranches = 20, kLeaves = 1000, kExecEvery = 4;
  Waiting root([] {
    pid_t branches[kBranches];
    for (int b = 0; b < kBranches; ++b) {
      branches[b] = fork();
      if (branches[b] != 0) continue;
      for (int i = 0; i < kLeaves; ++i) {
        pid_t leaf = fork();
        if (leaf == 0) {
          if (i % kExecEvery == 0) {
            std::string index = std::to_string(i);
            execl("/bin/true", "true", index.c_str(), nullptr);
          }
          _exit(i % 200);
        }
        waitpid(leaf, nullptr, 0);
      }
      _exit(0);
    }
    for (pid_t b : branches) waitpid(b, nullptr, 0);
    return 0;
  });
  absl::StatusOr<std::unique_ptr<Tracer>> tracer =
      Tracer::Start(Scope{Scope::kSubtree, root.pid(), 0});
  ASSERT_TRUE(tracer.ok()) << tracer.status();
  root.Go();
  // Consumed while the storm runs, as a real consumer would (10 ms ticks).
  std::vector<ProcessEvent> events = ConsumeUntil(
      **tracer, [&](const std::vector<ProcessEvent>& ev) { return HasExitOf(ev, root.pid()); },
      std::chrono::seconds(120));
  ASSERT_EQ(root.Wait(), 0);
  EXPECT_EQ((*tracer)->lost(), 0u);

  struct Seen {
    int32_t parent = 0;
    int index = -1;  // leaf index, from the order of its branch's forks
    int forks = 0, execs = 0, exits = 0;
    int order_errors = 0;
    std::vector<std::string> argv;
    int exit_code = -1, exit_signal = -1;
  };
  std::map<int32_t, Seen> procs;
  std::map<int32_t, int> forks_by_parent;
  for (const ProcessEvent& e : events) {
    ASSERT_NE(e.kind, EventKind::kLost);
    ASSERT_FALSE(e.is_thread);
    Seen& p = procs[e.pid];
    switch (e.kind) {
      case EventKind::kFork:
        ++p.forks;
        p.parent = e.parent_tgid;
        p.index = forks_by_parent[e.parent_tgid]++;
        break;
      case EventKind::kExec:
        if (p.forks != 1 || p.exits != 0) ++p.order_errors;
        ++p.execs;
        p.argv = e.argv;
        EXPECT_EQ(e.parent_tgid, p.parent);
        break;
      case EventKind::kExit:
        if (e.pid != root.pid() && p.forks != 1) ++p.order_errors;
        ++p.exits;
        p.exit_code = e.exit_code;
        p.exit_signal = e.exit_signal;
        if (e.pid != root.pid()) {
          EXPECT_EQ(e.parent_tgid, p.parent);
        }
        break;
      default:
        ADD_FAILURE() << ToJsonLine(e);
    }
  }
  int branches = 0, leaves = 0, execs = 0;
  for (const auto& [pid, p] : procs) {
    SCOPED_TRACE("pid " + std::to_string(pid));
    ASSERT_EQ(p.order_errors, 0);
    ASSERT_EQ(p.exits, 1);
    if (pid == root.pid()) {
      EXPECT_EQ(p.exit_code, 0);
      continue;
    }
    ASSERT_EQ(p.forks, 1);
    if (p.parent == root.pid()) {
      ++branches;
      EXPECT_EQ(p.execs, 0);
      EXPECT_EQ(p.exit_code, 0);
      continue;
    }
    ++leaves;
    ASSERT_EQ(procs[p.parent].parent, root.pid()) << "a leaf's parent is a branch";
    ASSERT_GE(p.index, 0);
    ASSERT_LT(p.index, kLeaves);
    EXPECT_EQ(p.exit_signal, 0);
    if (p.index % kExecEvery == 0) {
      ++execs;
      ASSERT_EQ(p.execs, 1);
      EXPECT_EQ(p.argv, (std::vector<std::string>{"true", std::to_string(p.index)}));
      EXPECT_EQ(p.exit_code, 0);
    } else {
      ASSERT_EQ(p.execs, 0);
      EXPECT_EQ(p.exit_code, p.index % 200);
    }
  }
  EXPECT_EQ(branches, kBranches);
  EXPECT_EQ(leaves, kBranches * kLeaves);
  EXPECT_EQ(execs, kBranches * kLeaves / kExecEvery);
  EXPECT_EQ(events.size(), 1u + 2u * kBranches + 2u * kBranches * kLeaves +
                               static_cast<size_t>(kBranches * kLeaves / kExecEvery));
}

}  // namespace
}  // namespace shim::trace
