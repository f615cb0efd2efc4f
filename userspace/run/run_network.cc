#include "run/run_network.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "cgroup/cgroup2.h"
#include "common/annotate.h"
#include "common/errno_status.h"
#include "common/status_macros.h"
#include "common/terminal_text.h"
#include "net/policy.h"
#include "net/socket_in_cgroup.h"
#include "run/events.h"
#include "run/sockaddr.h"
#include "void/landlock.h"

namespace shim::run {
namespace {

// The policy to install for `entrypoint`: its own, plus an inbound grant for every TcpListener it
// is given (the listener is bound in its cgroup, so the bind hook must allow the port), or none
// when it has neither (no IP socket at all).
std::optional<spec::NetworkPolicy> EffectivePolicy(const spec::Entrypoint& entrypoint) {
  std::optional<spec::NetworkPolicy> policy = entrypoint.network;
  auto grant = [&](uint16_t port, const std::string& pointer) {
    if (!policy) {
      policy.emplace();
      policy->pointer = entrypoint.pointer;
    }
    spec::InboundRule rule;
    rule.port = port;
    rule.protocol = spec::Protocol::kTcp;
    rule.pointer = pointer;
    policy->inbound.push_back(rule);
  };
  for (const spec::Arg& arg : entrypoint.args) {
    if (const auto* listener = std::get_if<spec::ArgTcpListener>(&arg.kind)) {
      grant(listener->address.port, arg.pointer);
    }
  }
  // A TcpListener trigger's connections are judged by the handlers' policy like a listener
  // arg's: if a handler disconnects one and connects it elsewhere, its (empty) outbound says no.
  if (const auto* listener = std::get_if<spec::TriggerTcpListener>(&entrypoint.trigger.kind)) {
    grant(listener->address.port, entrypoint.trigger.pointer);
  }
  return policy;
}

std::string DescribeDenial(const net::Denial& d) {
  if (d.verdict == net::Verdict::kDropped) {
    return absl::StrCat(d.dropped, " more denial reports dropped (rate limit)");
  }
  std::string target = d.address.empty() ? "" : absl::StrCat(" ", d.address, ":", d.port);
  return absl::StrCat(d.entrypoint.empty() ? "?" : d.entrypoint, " (pid ", d.pid, " ", d.comm,
                      "): ", d.verdict == net::Verdict::kAudited ? "would deny " : "denied ",
                      d.hook, target);
}

}  // namespace

absl::StatusOr<std::unique_ptr<RunNetwork>> RunNetwork::Create(spec::Spec& spec,
                                                               const cgroup::RunCgroups& cgroups,
                                                               bool audit, bool allow_degraded) {
  if (audit) {
    for (spec::Entrypoint& entrypoint : spec.entrypoints) {
      if (!entrypoint.network) {
        entrypoint.network.emplace();
        entrypoint.network->pointer = entrypoint.pointer + "/network";
      }
      entrypoint.network->mode = spec::NetworkMode::kAudit;
    }
  }
  net::FirewallOptions options;
  options.allow_degraded = allow_degraded;
  // Only a run where some entrypoint may hold an IP socket needs the programs that judge them.
  options.ip_policy_hooks = false;
  for (const spec::Entrypoint& entrypoint : spec.entrypoints) {
    if (EffectivePolicy(entrypoint)) options.ip_policy_hooks = true;
  }
  // Abstract unix names need the BPF layer only where a void shares the host's network namespace
  // (any network block, audit included) or where Landlock cannot scope them (docs/network.md).
  options.unix_hooks = sandbox::landlock::AbiVersion() < 6;
  for (const spec::Entrypoint& entrypoint : spec.entrypoints) {
    if (entrypoint.network) options.unix_hooks = true;
  }
  absl::StatusOr<std::unique_ptr<net::Firewall>> firewall =
      net::Firewall::Attach(cgroups.v2_fd(), options);
  if (!firewall.ok()) {
    return absl::Status(firewall.status().code(),
                        absl::StrCat("network firewall: ", firewall.status().message(),
                                     " (refusing to run without network enforcement)"));
  }
  std::unique_ptr<RunNetwork> network(new RunNetwork(*std::move(firewall), cgroups.v2_path()));
  network->missing_ = network->firewall_->MissingGuarantees();
  network->ip_policy_hooks_ = options.ip_policy_hooks;
  for (const spec::Entrypoint& entrypoint : spec.entrypoints) {
    std::optional<spec::NetworkPolicy> policy = EffectivePolicy(entrypoint);
    if (!policy) continue;
    ASSIGN_OR_RETURN(net::CompiledPolicy compiled, net::CompilePolicy(*policy));
    ASSIGN_OR_RETURN(uint64_t id,
                     CgroupIdOf(absl::StrCat(network->run_v2_path_, "/", entrypoint.name)));
    RETURN_IF_ERROR(network->firewall_->AddEntrypoint(id, entrypoint.name, compiled));
  }
  return network;
}

absl::StatusOr<UniqueFd> RunNetwork::MakeListener(const spec::Entrypoint& entrypoint,
                                                  const std::string& pointer,
                                                  const spec::SocketAddress& address) {
  const std::string dir = absl::StrCat(run_v2_path_, "/", entrypoint.name, "/listeners");
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus(absl::StrCat(pointer, ": mkdir ", dir), errno);
  }
  UniqueFd dir_fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) return ErrnoStatus(absl::StrCat(pointer, ": open ", dir), errno);
  sockaddr_storage storage{};
  const socklen_t length = ToSockaddr(address, storage);
  absl::StatusOr<UniqueFd> fd = net::BindSocketInCgroup(
      dir_fd.get(), SOCK_STREAM, reinterpret_cast<sockaddr*>(&storage), length, SOMAXCONN);
  if (!fd.ok()) {
    return Annotate(fd.status(), absl::StrCat(pointer, ": cannot listen on ", address.text));
  }
  return fd;
}

void RunNetwork::Drain(EventLog& events, bool quiet) {
  (void)firewall_->ConsumeDenials([&](const net::Denial& denial) {
    summary_.Add(denial);
    events.Write(events::Denial(denial));
    // comm and abstract socket names are the void's bytes: escaped for the terminal.
    if (!quiet) {
      std::fprintf(stderr, "shim-bpf: network: %s\n", ForTerminal(DescribeDenial(denial)).c_str());
    }
  });
}

}  // namespace shim::run
