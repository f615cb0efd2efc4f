#include "run/supervisor.h"

#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cgroup/run_cgroups.h"
#include "common/annotate.h"
#include "common/deferred_close.h"
#include "common/errno_status.h"
#include "common/pidfd.h"
#include "common/privilege.h"
#include "common/status_macros.h"
#include "common/terminal_text.h"
#include "run/event_log.h"
#include "run/events.h"
#include "run/instance_args.h"
#include "run/run_network.h"
#include "run/run_resources.h"
#include "run/run_tracer.h"
#include "run/worker_pool.h"
#include "spec/load.h"
#include "void/void.h"

namespace shim::run {
namespace {

constexpr int kExitCannotStart = 2;

// What the supervisor still needs once a run is prepared (BPF programs loaded and attached,
// listeners bound, the empty network namespace made), and why. Everything else is dropped for
// good, bounding set included (docs/security.md).
struct KeptCapability {
  int cap;
  const char* why;
};
constexpr KeptCapability kKeptCapabilities[] = {
    {CAP_SYS_ADMIN, "enter the shared empty network namespace for each new void (setns)"},
    {CAP_SYS_CHROOT, "join the entrypoint's prepared mount namespace template (setns)"},
    {CAP_SETUID, "map the void's uid to an unprivileged host uid"},
    {CAP_SETGID, "map the void's gid to an unprivileged host gid"},
    {CAP_KILL, "signal voids, which run as another uid, on shutdown and timeouts"},
};
// Kept in the permitted set only, raised for one call (ScopedCapability).
constexpr KeptCapability kDormantCapabilities[] = {
    {CAP_DAC_OVERRIDE, "remove the run's empty shim-bpf folders at the end (cgroup hierarchy "
                       "roots are mode 0555)"},
};

struct EntrypointState {
  const spec::Entrypoint* spec = nullptr;
  std::unique_ptr<sandbox::PreparedVoid> prepared;
  std::unique_ptr<trigger::TriggerSource> source;  // triggered entrypoints only
  bool polled = false;                             // source fd is in the epoll set
  uint64_t next_instance = 0;
  bool startup() const { return source == nullptr; }
};

struct LiveInstance {
  EntrypointState* entrypoint = nullptr;
  std::string name;  // "<entrypoint>-<n>"
  pid_t pid = -1;
  UniqueFd pidfd;
  std::optional<cgroup::InstanceCgroup> cgroup;
  absl::Time started;
  std::optional<absl::Time> deadline;
  bool timed_out = false;
  std::string trigger_source;  // the client address of a listener's connection (per-source caps)
  bool kill_failure_reported = false;
};

// Kills every process of the instance (cgroup.kill, or the v1 fallback). A failure is said once
// per instance on stderr: the instance may outlive its timeout or the run's shutdown.
void KillInstance(LiveInstance& live) {
  if (!live.cgroup) return;
  absl::Status killed = live.cgroup->Kill();
  if (killed.ok() || live.kill_failure_reported) return;
  live.kill_failure_reported = true;
  std::fprintf(stderr, "shim-bpf: %s: cannot kill its processes: %s\n", live.name.c_str(),
               std::string(killed.message()).c_str());
}

// One instance between its request and its start: what the spawn reads (argv, the fds the
// instance receives, its cgroup) lives here until the spawn has finished, which for a triggered
// instance happens on a worker thread while the loop goes on.
struct PendingSpawn {
  EntrypointState* state = nullptr;
  std::string name;
  InstanceArgs args;  // owns the fds opened or delivered for this instance
  std::string trigger_source;
  std::optional<cgroup::InstanceCgroup> cgroup;
  sandbox::SpawnRequest request;
  absl::StatusOr<sandbox::Instance> result = absl::UnknownError("not spawned yet");
};

// "64M", "1G", "1536K", or bytes, as a spec writes sizes.
std::string FormatBytes(uint64_t bytes) {
  for (const auto& [unit, size] : {std::pair<const char*, uint64_t>{"G", 1ull << 30},
                                   {"M", 1ull << 20}, {"K", 1ull << 10}}) {
    if (bytes >= size && bytes % size == 0) return absl::StrCat(bytes / size, unit);
  }
  return absl::StrCat(bytes);
}

// "SIGSEGV" for 11 (sigabbrev_np), or "signal N".
std::string SignalName(int signal) {
  const char* name = sigabbrev_np(signal);
  return name != nullptr ? absl::StrCat("SIG", name) : absl::StrCat("signal ", signal);
}

// shim-init, for entrypoints with "init": true: beside the shim-bpf executable.
std::string InitBinaryPath() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return "";
  return (self.parent_path() / "shim-init").string();
}

// Connections accepted from one readable listener before the loop looks at its other fds.
constexpr int kRequestsPerWakeup = 8;

// Spawn workers: enough to keep every core setting up voids while the loop thread serves.
unsigned SpawnWorkerCount() { return std::clamp(std::thread::hardware_concurrency(), 1u, 4u); }

class Supervisor {
 public:
  Supervisor(const RunOptions& options, spec::Spec spec)
      : options_(options), spec_(std::move(spec)) {}

  // Everything that can fail before the first void starts; nothing is left behind on failure.
  absl::Status Prepare() {
    ASSIGN_OR_RETURN(events_, EventLog::Open(options_.events_path));
    cgroup::RunCgroupsOptions cgroup_options;
    // On hybrid hosts, joining a v1 memory hierarchy costs the new void an RCU grace period
    // (measured: up to 18 ms): only instances with a memory limit pay it, so peak memory is
    // reported for those (and for every instance where memory is a v2 controller).
    cgroup_options.track_memory = false;
    ASSIGN_OR_RETURN(cgroups_, cgroup::RunCgroups::Create(cgroup_options));
    for (const spec::Entrypoint& entrypoint : spec_.entrypoints) {
      if (absl::Status s = cgroups_->CheckEnforceable(entrypoint.limits); !s.ok()) {
        return Annotate(absl::FailedPreconditionError(s.message()),
                        absl::StrCat("entrypoint ", entrypoint.name));
      }
      // Creates the entrypoint's cgroup (the firewall keys its policy by it) and a spare
      // instance cgroup, so the first spawn does not wait for mkdir.
      RETURN_IF_ERROR(cgroups_->Prepare(entrypoint.name, entrypoint.limits, 1));
    }
    ASSIGN_OR_RETURN(network_,
                     RunNetwork::Create(spec_, *cgroups_, options_.audit, options_.allow_degraded));
    if (options_.trace) {
      ASSIGN_OR_RETURN(tracer_, RunTracer::Start(cgroups_->v2_id()));
    }
    ASSIGN_OR_RETURN(
        resources_,
        RunResources::Create(spec_, [this](const spec::Entrypoint& entrypoint,
                                           const std::string& pointer,
                                           const spec::SocketAddress& address) {
          return network_->MakeListener(entrypoint, pointer, address);
        }));
    sandbox::VoidOptions void_options;
    void_options.base_dir = spec_.source_dir;
    void_options.init_binary = InitBinaryPath();
    for (const spec::Entrypoint& entrypoint : spec_.entrypoints) {
      auto state = std::make_unique<EntrypointState>();
      state->spec = &entrypoint;
      // A triggered entrypoint's mount template is built now, while the supervisor still holds
      // the privileges it takes (they are dropped before the first spawn); a Startup entrypoint
      // starts once and needs no template.
      const bool startup = std::holds_alternative<spec::TriggerStartup>(entrypoint.trigger.kind);
      void_options.mount_template = !startup;
      void_options.mount_template_after = 0;
      auto prepared = sandbox::PreparedVoid::Prepare(entrypoint, void_options);
      if (!prepared.ok()) {
        return Annotate(prepared.status(), absl::StrCat("entrypoint ", entrypoint.name));
      }
      state->prepared = *std::move(prepared);
      const uint32_t concurrency =
          entrypoint.limits.concurrency.value_or(trigger::kDefaultConcurrency);
      if (const auto* pipe = std::get_if<spec::TriggerPipe>(&entrypoint.trigger.kind)) {
        state->source = std::make_unique<trigger::TriggerSource>(
            entrypoint.name, trigger::TriggerKind::kPipe, resources_->pipes.at(pipe->name).rx.get(),
            concurrency);
      } else if (const auto* socket =
                     std::get_if<spec::TriggerFileSocket>(&entrypoint.trigger.kind)) {
        state->source = std::make_unique<trigger::TriggerSource>(
            entrypoint.name, trigger::TriggerKind::kFileSocket,
            resources_->file_sockets.at(socket->name).rx.get(), concurrency);
      } else if (resources_->listeners.count(entrypoint.trigger.pointer) != 0) {
        // A TcpListener or UnixListener trigger: one void per accepted connection.
        const auto* tcp = std::get_if<spec::TriggerTcpListener>(&entrypoint.trigger.kind);
        state->source = std::make_unique<trigger::TriggerSource>(
            entrypoint.name, trigger::TriggerKind::kListener,
            resources_->listeners.at(entrypoint.trigger.pointer).get(), concurrency,
            tcp != nullptr ? tcp->max_per_source : 0);
      }
      entrypoints_.push_back(std::move(state));
    }
    return SetUpLoop();
  }

  void ReportStart() {
    if (options_.quiet) return;
    std::fprintf(stderr, "shim-bpf: run %s: %zu entrypoint%s from %s\n", cgroups_->run_id().c_str(),
                 spec_.entrypoints.size(), spec_.entrypoints.size() == 1 ? "" : "s",
                 spec_.source_path.c_str());
    for (const std::string& line : cgroups_->Describe()) {
      std::fprintf(stderr, "shim-bpf:   %s\n", line.c_str());
    }
    const char* mode =
        options_.audit ? " (audit mode: nothing is denied, everything is reported)"
        : network_->ip_policy_hooks()
            ? ""
            : " (no entrypoint is granted a network: IP sockets refused at creation)";
    std::fprintf(stderr, "shim-bpf:   network: eBPF firewall on the run's cgroup%s\n", mode);
  }

  void ReportDegraded() {
    // Printed even with --quiet: running with a guarantee missing must never go unnoticed.
    for (const std::string& missing : network_->missing_guarantees()) {
      std::fprintf(stderr, "shim-bpf: WARNING: --allow-degraded: NOT ENFORCED: %s\n",
                   missing.c_str());
    }
  }

  void PrintAuditSummary() {
    network_->Drain(*events_, /*quiet=*/true);
    std::fprintf(stderr, "\n%s", network_->summary().Text().c_str());
  }

  // Starts the Startup entrypoints and serves until the run is over. Returns the exit status.
  int Serve() {
    events_->Write(events::RunStart(cgroups_->run_id(), spec_.source_path, getpid()));
    // Triggered instances are spawned on worker threads, made now: after the privilege drop and
    // with the loop's signals blocked, which threads inherit. --debug spawns inline, so each
    // stopped void is announced before the next request is taken.
    const bool triggered = std::any_of(entrypoints_.begin(), entrypoints_.end(),
                                       [](const auto& state) { return !state->startup(); });
    if (triggered && !options_.debug) {
      absl::StatusOr<std::unique_ptr<WorkerPool>> pool = WorkerPool::Start(SpawnWorkerCount());
      absl::Status watched = pool.ok() ? Watch((*pool)->fd()) : pool.status();
      if (!watched.ok()) {
        std::fprintf(stderr, "shim-bpf: %s\n", std::string(watched.message()).c_str());
        return kExitCannotStart;
      }
      spawners_ = *std::move(pool);
    }
    for (auto& state : entrypoints_) {
      if (!state->startup()) continue;
      if (absl::Status s = SpawnInstance(*state, nullptr); !s.ok()) {
        std::fprintf(stderr, "shim-bpf: %s\n", std::string(s.message()).c_str());
        exit_status_ = kExitCannotStart;
        BeginShutdown(absl::ZeroDuration());
        break;
      }
    }
    Loop();
    KillEverything();
    network_->Drain(*events_, options_.quiet);
    if (tracer_) tracer_->Drain(*events_);
    events_->Write(events::RunEnd(exit_status_.value_or(0)));
    return exit_status_.value_or(0);
  }

  ~Supervisor() {
    KillEverything();
    if (blocked_signals_) sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  }

 private:
  absl::Status SetUpLoop() {
    epoll_ = UniqueFd(epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) return ErrnoStatus("epoll_create1", errno);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    // SIGCHLD is blocked too, though nothing reads it (voids are reaped through their pidfds): a
    // void's exit signal goes to the thread that cloned it, and while a spawn worker has every
    // signal blocked (around clone3) it would be queued for the process and interrupt whatever
    // the loop thread is doing with EINTR (a cgroup v1 limit write, say). Threads inherit this.
    sigset_t blocked = mask;
    sigaddset(&blocked, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &blocked, &old_mask_) != 0) {
      return ErrnoStatus("sigprocmask", errno);
    }
    blocked_signals_ = true;
    signal_fd_ = UniqueFd(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signal_fd_) return ErrnoStatus("signalfd", errno);
    RETURN_IF_ERROR(Watch(network_->denial_fd()));
    if (tracer_) RETURN_IF_ERROR(Watch(tracer_->fd()));
    return Watch(signal_fd_.get());
  }

  absl::Status Watch(int fd) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
      return ErrnoStatus("epoll_ctl add", errno);
    }
    return absl::OkStatus();
  }
  void Unwatch(int fd) { epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr); }

  // Starts one void of `state`; `delivery` is what triggered it (null for Startup). A triggered
  // instance is handed to a spawn worker (when there are workers) and counts against the
  // entrypoint's concurrency from now on; FinishSpawn completes it on the loop thread.
  absl::Status SpawnInstance(EntrypointState& state, trigger::Delivery* delivery) {
    const spec::Entrypoint& entrypoint = *state.spec;
    auto pending = std::make_shared<PendingSpawn>();
    pending->state = &state;
    pending->name = absl::StrCat(entrypoint.name, "-", state.next_instance++);
    if (delivery != nullptr) pending->trigger_source = delivery->source;
    ASSIGN_OR_RETURN(pending->args,
                     BuildInstanceArgs(entrypoint, *resources_, options_.trailing, delivery));
    sandbox::SpawnRequest& request = pending->request;
    request.argv = std::move(pending->args.argv);
    request.fds = pending->args.fds;
    request.debug_stop = options_.debug;
    request.stdin_fd = pending->args.stdio[0];
    request.stdout_fd = pending->args.stdio[1];
    request.stderr_fd = pending->args.stdio[2];
    if (state.source) state.source->Started(pending->trigger_source);
    if (spawners_ && state.source) {
      // The instance cgroup is taken on the worker as well: a request waiting for a worker holds
      // only its own fds, and the loop makes no cgroup when no spare is left.
      spawners_->Submit([this, pending] { pending->result = TakeCgroupAndSpawn(*pending); },
                        [this, pending] {
                          if (absl::Status s = FinishSpawn(*pending); !s.ok()) {
                            Refuse(*pending->state, s);
                          }
                        });
      return absl::OkStatus();
    }
    pending->result = TakeCgroupAndSpawn(*pending);
    return FinishSpawn(*pending);
  }

  // Gives the instance its cgroup and starts it; runs on a spawn worker (RunCgroups is
  // thread-safe) or inline.
  absl::StatusOr<sandbox::Instance> TakeCgroupAndSpawn(PendingSpawn& pending) {
    const spec::Entrypoint& entrypoint = *pending.state->spec;
    ASSIGN_OR_RETURN(pending.cgroup, cgroups_->NextInstance(entrypoint.name, entrypoint.limits));
    pending.request.cgroup_fd = pending.cgroup->v2_dir_fd();
    pending.request.extra_v1_cgroup_procs_fds = pending.cgroup->v1_procs_fds();
    return pending.state->prepared->Spawn(pending.request);
  }

  // Registers a spawned instance (or reports why it could not start), on the loop thread.
  absl::Status FinishSpawn(PendingSpawn& pending) {
    EntrypointState& state = *pending.state;
    const spec::Entrypoint& entrypoint = *state.spec;
    if (!pending.result.ok()) {
      if (state.source) state.source->Finished(pending.trigger_source);
      events_->Write(events::SpawnFailed(entrypoint.name, pending.name,
                                         std::string(pending.result.status().message())));
      return Annotate(pending.result.status(), absl::StrCat("entrypoint ", entrypoint.name));
    }
    auto live = std::make_unique<LiveInstance>();
    live->entrypoint = &state;
    live->name = pending.name;
    live->trigger_source = pending.trigger_source;
    live->pid = pending.result->pid;
    live->pidfd = std::move(pending.result->pidfd);
    if (tracer_) tracer_->NoteInstance(pending.cgroup->v2_id(), entrypoint.name);
    live->cgroup = std::move(pending.cgroup);
    live->started = absl::Now();
    if (entrypoint.limits.timeout) live->deadline = live->started + *entrypoint.limits.timeout;
    if (absl::Status s = Watch(live->pidfd.get()); !s.ok()) {
      KillInstance(*live);
      siginfo_t info{};
      waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(live->pidfd.get()), &info, WEXITED);
      if (state.source) state.source->Finished(live->trigger_source);
      return s;
    }
    events_->Write(events::Spawn(entrypoint.name, live->name, live->pid, live->cgroup->v2_path()));
    if (options_.debug) {
      std::fprintf(stderr,
                   "shim-bpf: %s: pid %d stopped before exec; attach a debugger (gdb -p %d), "
                   "then continue it with kill -CONT %d\n",
                   live->name.c_str(), live->pid, live->pid, live->pid);
    }
    // A request already taken when the stop began still runs, and gets the same SIGTERM.
    if (stopping_) PidfdSendSignal(live->pidfd.get(), entrypoint.stop_signal);
    const int pidfd = live->pidfd.get();
    instances_.emplace(pidfd, std::move(live));
    // Keep instance cgroups ready for the next requests of a triggered entrypoint, one per spawn
    // worker: made here, their mkdirs and limit writes overlap the workers' spawns.
    if (state.source) {
      (void)cgroups_->Prepare(entrypoint.name, entrypoint.limits,
                              spawners_ ? spawners_->threads() : 1);
    }
    return absl::OkStatus();
  }

  void Reap(int pidfd) {
    auto it = instances_.find(pidfd);
    if (it == instances_.end()) return;
    LiveInstance& live = *it->second;
    siginfo_t info{};
    if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) != 0) {
      return;  // not exited yet (spurious wakeup)
    }
    Unwatch(pidfd);
    // The void's init is gone, so is its pid namespace; the cgroup may still hold processes
    // that joined v1 hierarchies only: kill them before reading the peak.
    KillInstance(live);
    const bool signalled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
    events::ExitFacts exit;
    exit.entrypoint = live.entrypoint->spec->name;
    exit.instance = live.name;
    exit.pid = live.pid;
    (signalled ? exit.signal : exit.exit_code) = info.si_status;
    exit.duration_ms = absl::ToDoubleMilliseconds(absl::Now() - live.started);
    exit.peak_memory_bytes = live.cgroup->PeakMemoryBytes();
    exit.oom_killed = live.cgroup->OomKilled();
    exit.timed_out = live.timed_out;
    events_->Write(events::Exit(exit));
    ReportAbnormalEnd(live, exit);
    if (live.entrypoint->startup() && !exit_status_ && !stopping_) {
      const int status = signalled ? 128 + info.si_status : info.si_status;
      if (status != 0) exit_status_ = status;
    }
    if (live.entrypoint->source) live.entrypoint->source->Finished(live.trigger_source);
    instances_.erase(it);  // removes the instance's cgroups
    resources_short_ = false;
  }

  // One line on stderr for an instance that did not end on its own terms (killed by the OOM
  // killer, past its timeout, or by a signal), naming the limit that fired: without --events the
  // user would see only an exit status. Not for what a requested stop did.
  void ReportAbnormalEnd(const LiveInstance& live, const events::ExitFacts& exit) const {
    const spec::Limits& limits = live.entrypoint->spec->limits;
    std::string why;
    if (exit.oom_killed) {
      why = absl::StrCat("killed by the OOM killer: over its memory limit (limits.memory ",
                         limits.memory_bytes ? FormatBytes(*limits.memory_bytes) : "?", ")");
    } else if (exit.timed_out) {
      why = absl::StrCat("killed: ran past its timeout (limits.timeout ",
                         limits.timeout ? absl::FormatDuration(*limits.timeout) : "?", ")");
    } else if (exit.signal && !stopping_) {
      why = absl::StrCat("killed by signal ", *exit.signal, " (", SignalName(*exit.signal), ")");
    }
    if (why.empty()) return;
    std::fprintf(stderr, "shim-bpf: %s (pid %d): %s\n", live.name.c_str(), live.pid, why.c_str());
  }

  // Takes one request; false when there was none after all (a client gave up before its
  // accept), so the caller stops draining the channel.
  bool HandleTrigger(EntrypointState& state) {
    absl::StatusOr<trigger::Delivery> delivery = state.source->Take();
    if (!delivery.ok()) {
      if (absl::IsUnavailable(delivery.status())) return false;
      Refuse(state, delivery.status());
      return true;
    }
    absl::Status s = resources_->CheckNoChannelEnds(delivery->fds);
    if (s.ok()) s = SpawnInstance(state, &*delivery);
    if (!s.ok()) {
      DiscardForeign(delivery->fds);  // what is left of a refused batch, closed off the loop
      Refuse(state, s);
    }
    return true;
  }

  void Refuse(EntrypointState& state, const absl::Status& why) {
    // Out of fds, memory or pids: build one void at a time until a handler's exit gives some
    // back, so that parallel spawns do not split what is left and all fail.
    if (absl::IsResourceExhausted(why)) resources_short_ = true;
    std::fprintf(stderr, "shim-bpf: %s: request refused: %s\n", state.spec->name.c_str(),
                 ForTerminal(why.message()).c_str());
    events_->Write(events::TriggerRefused(state.spec->name, std::string(why.message())));
  }

  // A trigger's request is taken only below the entrypoint's concurrency and while the spawn
  // workers have little queued: two spawns per worker (one under way, the next ready, so no
  // worker waits for the loop), one in all while resources are short. Requests wait in the
  // channel, not in the supervisor: each one taken holds fds (its own, its cgroup's) until its
  // spawn ends, and a long queue of them could take every fd the spawns themselves need
  // (RLIMIT_NOFILE), so that none could start.
  bool CanTakeRequest(const EntrypointState& state) const {
    if (stopping_ || !state.source->Ready()) return false;
    if (!spawners_) return true;
    return spawners_->pending() < (resources_short_ ? 1 : 2 * spawners_->threads());
  }

  // Polls a trigger's channel only while it may start another handler (backpressure).
  void SyncTriggerInterest() {
    for (auto& state : entrypoints_) {
      if (!state->source) continue;
      const bool want = CanTakeRequest(*state);
      if (want && !state->polled) {
        state->polled = Watch(state->source->fd()).ok();
      } else if (!want && state->polled) {
        Unwatch(state->source->fd());
        state->polled = false;
      }
    }
  }

  bool StartupInstancesLive() const {
    for (const auto& [fd, live] : instances_) {
      if (live->entrypoint->startup()) return true;
    }
    return false;
  }

  // Nothing can write to a trigger channel any more once every void has ended (the supervisor
  // only holds the write ends to hand them out); a message still queued is handled first. A
  // listener, though, takes connections from outside: a run with one serves until it is stopped.
  bool TriggerWorkPending() const {
    for (const auto& state : entrypoints_) {
      if (!state->source) continue;
      if (state->source->kind() == trigger::TriggerKind::kListener) return true;
      pollfd p{state->source->fd(), POLLIN, 0};
      if (poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) return true;
    }
    return false;
  }

  void BeginShutdown(absl::Duration grace) {
    if (stopping_) return;
    stopping_ = true;
    shutdown_deadline_ = absl::Now() + grace;
    for (auto& [fd, live] : instances_) PidfdSendSignal(fd, live->entrypoint->spec->stop_signal);
  }

  void HandleSignals() {
    signalfd_siginfo info{};
    while (read(signal_fd_.get(), &info, sizeof(info)) == sizeof(info)) {
      if (stopping_) {
        // A second signal: stop waiting for the grace period.
        shutdown_deadline_ = absl::Now();
        continue;
      }
      if (!options_.quiet) {
        std::fprintf(stderr, "shim-bpf: %s: stopping (grace %s)\n", strsignal(info.ssi_signo),
                     absl::FormatDuration(options_.grace).c_str());
      }
      BeginShutdown(options_.grace);
    }
  }

  // Milliseconds until the next deadline (instance timeout or end of grace), or -1.
  int NextTimeoutMs() const {
    std::optional<absl::Time> next;
    if (stopping_) next = shutdown_deadline_;
    for (const auto& [fd, live] : instances_) {
      if (live->deadline && !live->timed_out && (!next || *live->deadline < *next)) {
        next = live->deadline;
      }
    }
    // Denial reports are also drained on a clock, so rate-limit drops surface while quiet; the
    // tracer's ring buffer never wakes us up (that keeps tracing cheap): drain it every 10 ms.
    if (!next || *next > next_denial_drain_) next = next_denial_drain_;
    if (tracer_ && *next > next_trace_drain_) next = next_trace_drain_;
    const absl::Duration left = *next - absl::Now();
    if (left <= absl::ZeroDuration()) return 0;
    return static_cast<int>(absl::ToInt64Milliseconds(left + absl::Milliseconds(1)));
  }

  void EnforceDeadlines() {
    const absl::Time now = absl::Now();
    if (tracer_ && now >= next_trace_drain_) {
      tracer_->Drain(*events_);
      next_trace_drain_ = now + absl::Milliseconds(10);
    }
    if (now >= next_denial_drain_) {
      network_->Drain(*events_, options_.quiet);
      next_denial_drain_ = now + absl::Seconds(1);
      // A listener that ran out of fds tries again at least once a second.
      for (auto& state : entrypoints_) {
        if (state->source) state->source->Resume();
      }
    }
    for (auto& [fd, live] : instances_) {
      if (live->deadline && !live->timed_out && *live->deadline <= now) {
        live->timed_out = true;
        KillInstance(*live);
      }
    }
    if (stopping_ && now >= shutdown_deadline_) {
      for (auto& [fd, live] : instances_) KillInstance(*live);
    }
  }

  void Loop() {
    for (;;) {
      SyncTriggerInterest();
      const bool spawning = spawners_ && spawners_->pending() > 0;
      if (instances_.empty() && !spawning &&
          (stopping_ || (!StartupInstancesLive() && !TriggerWorkPending()))) {
        return;
      }
      epoll_event events[64];
      const int n = epoll_wait(epoll_.get(), events, 64, NextTimeoutMs());
      if (n < 0 && errno != EINTR) {
        std::fprintf(stderr, "shim-bpf: epoll_wait: %s\n", strerror(errno));
        exit_status_ = exit_status_.value_or(kExitCannotStart);
        return;
      }
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == signal_fd_.get()) {
          HandleSignals();
        } else if (fd == network_->denial_fd()) {
          network_->Drain(*events_, options_.quiet);
        } else if (tracer_ && fd == tracer_->fd()) {
          tracer_->Drain(*events_);
        } else if (spawners_ && fd == spawners_->fd()) {
          spawners_->RunCompletions();
        } else if (instances_.count(fd) != 0) {
          Reap(fd);
        } else {
          for (auto& state : entrypoints_) {
            if (state->source == nullptr || state->source->fd() != fd || !state->polled) continue;
            // A listener (non-blocking) is drained of a few connections per wakeup while there
            // is room: under load it has a backlog, and each epoll round trip costs more than
            // the accept itself. A channel's reads block, so it gives one request per wakeup.
            const int most =
                state->source->kind() == trigger::TriggerKind::kListener ? kRequestsPerWakeup : 1;
            for (int taken = 0; taken < most && CanTakeRequest(*state); ++taken) {
              if (!HandleTrigger(*state)) break;
            }
          }
        }
      }
      EnforceDeadlines();
    }
  }

  void KillEverything() {
    // Spawns under way finish first (their instances are registered), so none escapes the kill.
    if (spawners_) spawners_->Drain();
    for (auto& [fd, live] : instances_) {
      KillInstance(*live);
      siginfo_t info{};
      waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(fd), &info, WEXITED);
    }
    instances_.clear();
  }

  const RunOptions& options_;
  spec::Spec spec_;
  std::unique_ptr<EventLog> events_;
  std::optional<cgroup::RunCgroups> cgroups_;
  std::unique_ptr<RunNetwork> network_;
  std::unique_ptr<RunTracer> tracer_;
  std::optional<RunResources> resources_;
  std::vector<std::unique_ptr<EntrypointState>> entrypoints_;
  std::map<int, std::unique_ptr<LiveInstance>> instances_;  // keyed by pidfd
  // Destroyed (threads joined) after every instance is reaped: the threads are the voids'
  // parents, and a void dies with the thread that cloned it (PR_SET_PDEATHSIG).
  std::unique_ptr<WorkerPool> spawners_;
  UniqueFd epoll_;
  UniqueFd signal_fd_;
  sigset_t old_mask_{};
  bool blocked_signals_ = false;
  bool stopping_ = false;
  bool resources_short_ = false;  // a request was refused for want of fds, memory or pids
  absl::Time shutdown_deadline_;
  absl::Time next_denial_drain_ = absl::Now() + absl::Seconds(1);
  absl::Time next_trace_drain_ = absl::Now();
  std::optional<int> exit_status_;
};

}  // namespace

int RunSpec(const RunOptions& options) {
  spec::LoadOptions load_options;
  load_options.binary_override = options.binary;
  spec::LoadResult loaded = spec::LoadSpecFile(options.spec_path, load_options);
  for (const spec::Diagnostic& d : loaded.diagnostics) {
    std::fprintf(stderr, "%s\n", spec::FormatDiagnostic(options.spec_path, d).c_str());
  }
  if (!loaded.spec) {
    std::fprintf(stderr, "shim-bpf: %s is invalid; nothing was started\n",
                 options.spec_path.c_str());
    return kExitCannotStart;
  }
  if (absl::Status s = CheckSupervisorPrivileges(); !s.ok()) {
    std::fprintf(stderr, "shim-bpf: run: %s\n", std::string(s.message()).c_str());
    return kExitCannotStart;
  }
  Supervisor supervisor(options, *std::move(loaded.spec));
  if (absl::Status s = supervisor.Prepare(); !s.ok()) {
    std::fprintf(stderr, "shim-bpf: run: %s\n", std::string(s.message()).c_str());
    return kExitCannotStart;
  }
  std::vector<int> keep;
  std::string kept_names;
  for (const KeptCapability& kept : kKeptCapabilities) {
    keep.push_back(kept.cap);
    absl::StrAppend(&kept_names, kept_names.empty() ? "" : " ", CapabilityName(kept.cap));
  }
  std::vector<int> dormant;
  for (const KeptCapability& kept : kDormantCapabilities) {
    dormant.push_back(kept.cap);
    absl::StrAppend(&kept_names, " (", CapabilityName(kept.cap),
                    " dormant, raised only for the final cleanup)");
  }
  if (absl::Status s = KeepOnlyCapabilities(keep, dormant); !s.ok()) {
    std::fprintf(stderr, "shim-bpf: run: dropping capabilities: %s\n",
                 std::string(s.message()).c_str());
    return kExitCannotStart;
  }
  supervisor.ReportStart();
  if (!options.quiet) {
    std::fprintf(stderr, "shim-bpf:   privileges: kept %s; every other capability dropped\n",
                 kept_names.c_str());
  }
  supervisor.ReportDegraded();
  const int status = supervisor.Serve();
  if (options.audit) supervisor.PrintAuditSummary();
  return status;
}

}  // namespace shim::run
