// The network side of a run (docs/network.md): the eBPF firewall attached to the run's cgroup,
// every entrypoint's policy installed before anything starts, TcpListener sockets created inside
// the owning entrypoint's cgroup (so the policy judges them and their connections), and the
// denial reports turned into events, live messages and, for `shim-bpf audit`, a summary.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cgroup/run_cgroups.h"
#include "common/unique_fd.h"
#include "net/audit_summary.h"
#include "net/firewall.h"
#include "run/event_log.h"
#include "spec/model.h"

namespace shim::run {

class RunNetwork {
 public:
  // `audit`: every entrypoint runs in audit mode, and one without a `network` block gets an
  // empty audited policy (and so the host network), so that what it tries can be seen. Modifies
  // `spec` accordingly. Entrypoint cgroups must exist (RunCgroups::Prepare).
  static absl::StatusOr<std::unique_ptr<RunNetwork>> Create(spec::Spec& spec,
                                                            const cgroup::RunCgroups& cgroups,
                                                            bool audit, bool allow_degraded);

  // A listening socket for the TcpListener arg or trigger at `pointer` of `entrypoint`, created
  // in <run>/<entrypoint>/listeners.
  absl::StatusOr<UniqueFd> MakeListener(const spec::Entrypoint& entrypoint,
                                        const std::string& pointer,
                                        const spec::SocketAddress& address);

  int denial_fd() const { return firewall_->denial_fd(); }
  // Delivers pending denial reports to `events` (and to stderr unless `quiet`).
  void Drain(EventLog& events, bool quiet);
  const std::vector<std::string>& missing_guarantees() const { return missing_; }
  const net::AuditSummary& summary() const { return summary_; }
  // False when no entrypoint may hold an IP socket: only socket creation is hooked (and refused).
  bool ip_policy_hooks() const { return ip_policy_hooks_; }

 private:
  RunNetwork(std::unique_ptr<net::Firewall> firewall, std::string run_v2_path)
      : firewall_(std::move(firewall)), run_v2_path_(std::move(run_v2_path)) {}

  std::unique_ptr<net::Firewall> firewall_;
  std::string run_v2_path_;
  std::vector<std::string> missing_;
  net::AuditSummary summary_;
  bool ip_policy_hooks_ = true;
};

}  // namespace shim::run
