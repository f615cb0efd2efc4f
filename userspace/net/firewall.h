// Loads bpf/net_policy.bpf.c (IP) and bpf/net_unix.bpf.c (abstract unix sockets) once per run,
// attaches their programs to the run's cgroup v2 directory and installs each entrypoint's compiled
// policy. See docs/network.md. A Firewall is used from one thread (the supervisor's loop).
//
// Cgroup layout expected (design.md section 4):
//   <run cgroup>/<entrypoint>/<instance...>
// Attach() gets the run cgroup; the programs judge every socket operation by the cgroup id of
// the calling task's ancestor exactly one level below the run cgroup (the entrypoint cgroup),
// read with bpf_get_current_ancestor_cgroup_id(run_level + 1). Instances may nest at any depth
// beneath their entrypoint cgroup. A task in the run cgroup itself, or in an entrypoint cgroup
// without AddEntrypoint, is denied every IP socket.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "net/policy.h"

struct net_policy;  // the bpftool-generated skeletons (bpf/net_policy.bpf.c, bpf/net_unix.bpf.c)
struct net_unix;
struct ring_buffer;
struct bpf_link;

namespace shim::net {

struct FirewallOptions {
  // Run even if some hook cannot attach; MissingGuarantees() then names what is not enforced.
  bool allow_degraded = false;
  // Denial reports per second and burst, per CPU (a token bucket in BPF). Reports over the
  // limit are counted, not lost silently: ConsumeDenials yields a kDropped record.
  uint32_t denial_rate_per_sec = 200;
  uint32_t denial_burst = 50;
  // Capacity of each LPM trie (IPv4 and IPv6), summed over all entrypoints.
  uint32_t max_prefixes = 65536;
  // Capacity of the inbound-port and entrypoint maps.
  uint32_t max_entrypoints = 1024;
  uint32_t max_inbound = 4096;
  // Load and attach the IP policy programs (connect, sendmsg, bind, ingress). A run in which no
  // entrypoint may have an IP socket turns this off: sock_create alone then refuses every IP
  // socket of the run (no policy is installed), and with no IP socket there is nothing for the
  // other hooks to judge, so the run does not pay for verifying them (about two thirds of the
  // load time). AddEntrypoint refuses to install a policy without them.
  bool ip_policy_hooks = true;
  // Load and attach the abstract-unix programs (bpf/net_unix.bpf.c). They matter where a void
  // shares the host's network namespace (the host's abstract names are in reach) or where Landlock
  // cannot scope abstract sockets (ABI < 6). Elsewhere the void's empty netns hides the host's
  // names and Landlock's scope the other voids', and the run skips their load: libbpf parses the
  // kernel's 5 MB BTF for their kfunc, about a third of a cold run.
  bool unix_hooks = true;
};

enum class Direction { kOutbound, kInbound, kSocket };
enum class Verdict { kDenied, kAudited, kDropped };

struct Denial {
  Verdict verdict = Verdict::kDenied;
  uint64_t dropped = 0;         // kDropped only: reports lost to the rate limit since last time
  std::string entrypoint;       // name given to AddEntrypoint; "" for an unknown cgroup
  uint64_t cgroup_id = 0;       // the entrypoint cgroup's id (0: the task is not under one)
  uint64_t task_cgroup_id = 0;  // the task's own cgroup (which instance); 0 for inbound packets
  uint32_t pid = 0;             // thread-group id; 0 for inbound packets (no task context)
  std::string comm;
  Direction direction = Direction::kOutbound;
  std::string hook;           // connect4/6, sendmsg4/6, bind4/6, sock_create, listen, udp_recv,
                              // connect_unix, sendmsg_unix
  int family = 0;             // AF_INET / AF_INET6 (IPv4-mapped IPv6 reported as AF_INET),
                              // or the socket's family for sock_create
  std::string address;        // "10.0.0.1", "2001:db8::1", "@abstract-name" (first 16 bytes);
                              // "" when none
  uint16_t port = 0;          // host order
  int protocol = 0;           // IPPROTO_TCP / IPPROTO_UDP / other, as the socket has it
  int sock_type = 0;          // SOCK_STREAM / SOCK_DGRAM / SOCK_RAW ...
  uint64_t timestamp_ns = 0;  // CLOCK_MONOTONIC (bpf_ktime_get_ns)
};

class Firewall {
 public:
  // Loads the programs and attaches them (bpf_link, multi-attach like BPF_F_ALLOW_MULTI) to
  // `run_cgroup_fd`, an O_DIRECTORY fd of the run's own cgroup v2 directory: never the root
  // cgroup, the caller's own or one of its ancestors (all refused). Links are closed with the
  // Firewall, so a dying supervisor detaches everything too.
  static absl::StatusOr<std::unique_ptr<Firewall>> Attach(int run_cgroup_fd,
                                                          const FirewallOptions& options);

  Firewall(const Firewall&) = delete;
  Firewall& operator=(const Firewall&) = delete;
  ~Firewall();  // detaches and unloads everything

  // Installs `policy` for the entrypoint cgroup `entrypoint_cgroup_id` (a direct child of the
  // run cgroup). Until this is called for a cgroup, its tasks may create no IP socket at all.
  // FailedPrecondition when the firewall was attached without ip_policy_hooks.
  absl::Status AddEntrypoint(uint64_t entrypoint_cgroup_id, const std::string& name,
                             const CompiledPolicy& policy);
  // Removes an entrypoint's policy (its tasks are denied everything again).
  absl::Status RemoveEntrypoint(uint64_t entrypoint_cgroup_id);

  // The ring buffer map's fd: poll it for POLLIN, then call ConsumeDenials. Also consume on a
  // timer (~1 s) so that rate-limit drops are reported while no record arrives.
  int denial_fd() const;
  // Delivers every pending report, then one kDropped record if reports were lost since the
  // last call.
  absl::Status ConsumeDenials(const std::function<void(const Denial&)>& sink);
  // Total reports lost to the rate limit or a full ring buffer since Attach.
  uint64_t DroppedTotal() const;

  // Guarantees not enforced because a hook could not attach (non-empty only with
  // allow_degraded), e.g. "outbound IPv6 UDP (cgroup/sendmsg6): Operation not supported".
  std::vector<std::string> MissingGuarantees() const { return missing_; }

  // Ids of the loaded programs, for tests that check nothing outlives the Firewall.
  std::vector<uint32_t> ProgramIds() const;

 private:
  Firewall() = default;
  Denial Decode(const void* data) const;
  absl::Status AttachUnix(int run_cgroup_fd, const std::string& path);

  ::net_policy* skel_ = nullptr;
  ::net_unix* unix_skel_ = nullptr;  // abstract unix sockets; null if it could not load
  std::vector<bpf_link*> links_;
  ring_buffer* ring_ = nullptr;
  std::vector<std::string> missing_;
  bool ip_policy_hooks_ = true;
  absl::flat_hash_map<uint64_t, std::string> names_;
  absl::flat_hash_map<uint64_t, CompiledPolicy> installed_;  // for RemoveEntrypoint
  uint64_t dropped_reported_ = 0;
  const std::function<void(const Denial&)>* sink_ = nullptr;  // during ConsumeDenials only
  static int OnRecord(void* ctx, void* data, size_t size);
};

// One JSON object (no newline) for --events:
// {"event":"denial","verdict":"denied","entrypoint":"db_client","cgroup_id":1234,
//  "task_cgroup_id":1240,"pid":12,"comm":"app","direction":"outbound","hook":"connect4",
//  "family":"ipv4","address":"10.0.0.9","port":5432,"protocol":"tcp","sock_type":1,
//  "timestamp_ns":...}
// and {"event":"denial","verdict":"dropped","dropped":17} for rate-limit losses.
std::string DenialToJson(const Denial& denial);
// The same as a JSON value (invalid UTF-8 in comm is replaced when it is dumped).
nlohmann::ordered_json DenialToJsonValue(const Denial& denial);

}  // namespace shim::net
