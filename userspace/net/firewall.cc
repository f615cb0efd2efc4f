#include "net/firewall.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cgroup/cgroup2.h"
#include "common/annotate.h"
#include "common/errno_status.h"
#include "common/status_macros.h"
#include "net_policy.skel.h"
#include "net_unix.skel.h"

namespace shim::net {
namespace {

// What each program guarantees, for --allow-degraded messages.
struct HookInfo {
  const char* program;
  const char* guarantee;
  bool ip_policy;  // judges IP sockets that exist (FirewallOptions::ip_policy_hooks)
};
constexpr HookInfo kHooks[] = {
    {"net_sock_create", "socket creation limited to granted TCP/UDP (cgroup/sock_create)", false},
    {"net_connect4", "outbound IPv4 TCP and connected UDP (cgroup/connect4)", true},
    {"net_connect6", "outbound IPv6 TCP and connected UDP (cgroup/connect6)", true},
    {"net_sendmsg4", "outbound IPv4 unconnected UDP (cgroup/sendmsg4)", true},
    {"net_sendmsg6", "outbound IPv6 unconnected UDP (cgroup/sendmsg6)", true},
    {"net_bind4", "inbound IPv4 port grants on bind (cgroup/bind4)", true},
    {"net_bind6", "inbound IPv6 port grants on bind (cgroup/bind6)", true},
    {"net_ingress",
     "inbound TCP connections only to granted listening ports, UDP only to granted ports or from "
     "allowed peers (cgroup_skb/ingress)",
     true},
};

const char* HookName(uint8_t hook) {
  switch (hook) {
    case NET_HOOK_CONNECT4:
      return "connect4";
    case NET_HOOK_CONNECT6:
      return "connect6";
    case NET_HOOK_SENDMSG4:
      return "sendmsg4";
    case NET_HOOK_SENDMSG6:
      return "sendmsg6";
    case NET_HOOK_BIND4:
      return "bind4";
    case NET_HOOK_BIND6:
      return "bind6";
    case NET_HOOK_SOCK_CREATE:
      return "sock_create";
    case NET_HOOK_LISTEN:
      return "listen";
    case NET_HOOK_UDP_RECV:
      return "udp_recv";
    case NET_HOOK_CONNECT_UNIX:
      return "connect_unix";
    case NET_HOOK_SENDMSG_UNIX:
      return "sendmsg_unix";
    default:
      return "unknown";
  }
}

Direction HookDirection(uint8_t hook) {
  switch (hook) {
    case NET_HOOK_BIND4:
    case NET_HOOK_BIND6:
    case NET_HOOK_LISTEN:
    case NET_HOOK_UDP_RECV:
      return Direction::kInbound;
    case NET_HOOK_SOCK_CREATE:
      return Direction::kSocket;
    default:
      return Direction::kOutbound;
  }
}

// Path components below the cgroup2 mount = the cgroup's level (the root cgroup is level 0).
absl::StatusOr<std::pair<std::string, int>> RunCgroupPathAndLevel(int fd) {
  struct statfs fs;
  if (fstatfs(fd, &fs) != 0) return ErrnoStatus("fstatfs run cgroup fd");
  if (fs.f_type != CGROUP2_SUPER_MAGIC) {
    return absl::InvalidArgumentError("run cgroup fd is not a cgroup v2 directory");
  }
  char buf[4096];
  const std::string link = absl::StrCat("/proc/self/fd/", fd);
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf) - 1);
  if (n < 0) return ErrnoStatus(absl::StrCat("readlink ", link));
  std::string path(buf, static_cast<size_t>(n));
  ASSIGN_OR_RETURN(std::string mount, FindCgroup2Mount());
  ASSIGN_OR_RETURN(std::string own, OwnCgroup2Dir());
  if (path == mount) {
    return absl::InvalidArgumentError("refusing to attach the network policy to the root cgroup");
  }
  if (path.rfind(mount + "/", 0) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("run cgroup ", path, " is not beneath the cgroup2 mount ", mount));
  }
  if (own == path || own.rfind(path + "/", 0) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("refusing to attach the network policy to ", path,
                     ": it contains this process (its own cgroup is ", own, ")"));
  }
  const std::string relative = path.substr(mount.size() + 1);
  int level = 0;
  for (absl::string_view part : absl::StrSplit(relative, '/', absl::SkipEmpty())) {
    (void)part;
    ++level;
  }
  return std::make_pair(path, level);
}

void ToKeyCgroup(uint64_t id, __u32 (&out)[2]) { std::memcpy(out, &id, sizeof(id)); }

// Writes (or, with remove, deletes) the LPM and inbound entries of one entrypoint. Stops at the
// first failure and returns how many prefix/inbound entries were done, for rollback.
struct Progress {
  size_t prefixes = 0;
  size_t inbound = 0;
};

absl::Status WriteEntries(net_policy* skel, uint64_t cg, const CompiledPolicy& policy,
                          Progress& done) {
  const int v4 = bpf_map__fd(skel->maps.rules_v4);
  const int v6 = bpf_map__fd(skel->maps.rules_v6);
  const int in = bpf_map__fd(skel->maps.inbound);
  for (const CompiledPrefix& p : policy.prefixes) {
    int rc;
    if (p.ipv6) {
      net_v6_key key{};
      key.prefixlen = 64 + p.prefix_len;
      ToKeyCgroup(cg, key.cgroup_id);
      std::memcpy(key.addr, p.address.data(), 16);
      rc = bpf_map_update_elem(v6, &key, &p.value, BPF_ANY);
    } else {
      net_v4_key key{};
      key.prefixlen = 64 + p.prefix_len;
      ToKeyCgroup(cg, key.cgroup_id);
      std::memcpy(key.addr, p.address.data(), 4);
      rc = bpf_map_update_elem(v4, &key, &p.value, BPF_ANY);
    }
    if (rc != 0) return ErrnoStatus("add a network rule prefix to the LPM trie (map full?)", -rc);
    ++done.prefixes;
  }
  for (const auto& [port, protocol] : policy.inbound) {
    net_inbound_key key{};
    key.cgroup_id = cg;
    key.port = port;
    key.protocol = protocol;
    uint8_t one = 1;
    if (int rc = bpf_map_update_elem(in, &key, &one, BPF_ANY); rc != 0) {
      return ErrnoStatus("add an inbound port grant", -rc);
    }
    ++done.inbound;
  }
  return absl::OkStatus();
}

void DeleteEntries(net_policy* skel, uint64_t cg, const CompiledPolicy& policy,
                   const Progress& upto) {
  const int v4 = bpf_map__fd(skel->maps.rules_v4);
  const int v6 = bpf_map__fd(skel->maps.rules_v6);
  const int in = bpf_map__fd(skel->maps.inbound);
  for (size_t i = 0; i < upto.prefixes && i < policy.prefixes.size(); ++i) {
    const CompiledPrefix& p = policy.prefixes[i];
    if (p.ipv6) {
      net_v6_key key{};
      key.prefixlen = 64 + p.prefix_len;
      ToKeyCgroup(cg, key.cgroup_id);
      std::memcpy(key.addr, p.address.data(), 16);
      bpf_map_delete_elem(v6, &key);
    } else {
      net_v4_key key{};
      key.prefixlen = 64 + p.prefix_len;
      ToKeyCgroup(cg, key.cgroup_id);
      std::memcpy(key.addr, p.address.data(), 4);
      bpf_map_delete_elem(v4, &key);
    }
  }
  for (size_t i = 0; i < upto.inbound && i < policy.inbound.size(); ++i) {
    net_inbound_key key{};
    key.cgroup_id = cg;
    key.port = policy.inbound[i].first;
    key.protocol = policy.inbound[i].second;
    bpf_map_delete_elem(in, &key);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Firewall>> Firewall::Attach(int run_cgroup_fd,
                                                           const FirewallOptions& options) {
  ASSIGN_OR_RETURN(auto path_level, RunCgroupPathAndLevel(run_cgroup_fd));
  std::unique_ptr<Firewall> fw(new Firewall());
  fw->skel_ = net_policy__open();
  if (fw->skel_ == nullptr) return ErrnoStatus("open the net_policy BPF object");
  net_policy* skel = fw->skel_;
  skel->rodata->net_cfg.entrypoint_level = static_cast<__u32>(path_level.second + 1);
  skel->rodata->net_cfg.rate_per_sec = options.denial_rate_per_sec;
  skel->rodata->net_cfg.burst = options.denial_burst;
  bpf_map__set_max_entries(skel->maps.rules_v4, options.max_prefixes);
  bpf_map__set_max_entries(skel->maps.rules_v6, options.max_prefixes);
  bpf_map__set_max_entries(skel->maps.policies, options.max_entrypoints);
  bpf_map__set_max_entries(skel->maps.inbound, options.max_inbound);
  fw->ip_policy_hooks_ = options.ip_policy_hooks;
  for (const HookInfo& hook : kHooks) {
    if (!hook.ip_policy || options.ip_policy_hooks) continue;
    if (bpf_program* prog = bpf_object__find_program_by_name(skel->obj, hook.program)) {
      bpf_program__set_autoload(prog, false);
    }
  }
  if (!options.ip_policy_hooks) {
    // Only the programs left out read the rule maps, and no entrypoint has rules to put there.
    for (bpf_map* map :
         {skel->maps.rules_v4, skel->maps.rules_v6, skel->maps.inbound, skel->maps.last_allowed}) {
      bpf_map__set_autocreate(map, false);
    }
  }
  // The ring buffer is the only map a missing program cannot degrade: load failures of the
  // object are fatal, whatever allow_degraded says (a policy with no maps enforces nothing).
  if (int err = net_policy__load(skel); err != 0) {
    return ErrnoStatus("load the net_policy BPF programs (verifier log above, if any)", -err);
  }
  for (const HookInfo& hook : kHooks) {
    if (hook.ip_policy && !options.ip_policy_hooks) continue;
    bpf_program* prog = bpf_object__find_program_by_name(skel->obj, hook.program);
    bpf_link* link = prog ? bpf_program__attach_cgroup(prog, run_cgroup_fd) : nullptr;
    if (link == nullptr) {
      const int err = prog ? errno : ENOENT;
      absl::Status status =
          ErrnoStatus(absl::StrCat("attach ", hook.program, " to ", path_level.first), err);
      if (!options.allow_degraded) {
        return Annotate(status, absl::StrCat("missing guarantee: ", hook.guarantee));
      }
      fw->missing_.push_back(absl::StrCat(hook.guarantee, ": ", status.message()));
      continue;
    }
    fw->links_.push_back(link);
  }
  if (absl::Status s =
          options.unix_hooks ? fw->AttachUnix(run_cgroup_fd, path_level.first) : absl::OkStatus();
      !s.ok()) {
    constexpr const char* kGuarantee =
        "abstract unix sockets refused (cgroup/connect_unix, sendmsg_unix; Linux >= 6.7)";
    if (!options.allow_degraded) {
      return Annotate(s, absl::StrCat("missing guarantee: ", kGuarantee));
    }
    fw->missing_.push_back(absl::StrCat(kGuarantee, ": ", s.message()));
  }
  fw->ring_ =
      ring_buffer__new(bpf_map__fd(skel->maps.denials), &Firewall::OnRecord, fw.get(), nullptr);
  if (fw->ring_ == nullptr) return ErrnoStatus("open the denial ring buffer");
  return fw;
}

// The abstract-unix programs: a second object (they need Linux >= 6.7, and a failure here must
// not take the IP policy down with it) sharing the first one's maps.
absl::Status Firewall::AttachUnix(int run_cgroup_fd, const std::string& path) {
  // enum bpf_attach_type values of Linux 6.7+, missing from older uapi headers.
  constexpr auto kUnixConnect = static_cast<bpf_attach_type>(49);  // BPF_CGROUP_UNIX_CONNECT
  constexpr auto kUnixSendmsg = static_cast<bpf_attach_type>(50);  // BPF_CGROUP_UNIX_SENDMSG
  unix_skel_ = net_unix__open();
  if (unix_skel_ == nullptr) return ErrnoStatus("open the net_unix BPF object");
  unix_skel_->rodata->net_cfg = skel_->rodata->net_cfg;
  const std::pair<bpf_map*, bpf_map*> shared[] = {
      {unix_skel_->maps.policies, skel_->maps.policies},
      {unix_skel_->maps.denials, skel_->maps.denials},
      {unix_skel_->maps.buckets, skel_->maps.buckets},
      {unix_skel_->maps.dropped, skel_->maps.dropped},
  };
  for (const auto& [mine, theirs] : shared) {
    if (int err = bpf_map__reuse_fd(mine, bpf_map__fd(theirs)); err != 0) {
      return ErrnoStatus(absl::StrCat("share map ", bpf_map__name(theirs)), -err);
    }
  }
  bpf_program__set_expected_attach_type(unix_skel_->progs.net_connect_unix, kUnixConnect);
  bpf_program__set_expected_attach_type(unix_skel_->progs.net_sendmsg_unix, kUnixSendmsg);
  if (int err = net_unix__load(unix_skel_); err != 0) {
    return ErrnoStatus("load the net_unix BPF programs", -err);
  }
  for (bpf_program* prog :
       {unix_skel_->progs.net_connect_unix, unix_skel_->progs.net_sendmsg_unix}) {
    bpf_link* link = bpf_program__attach_cgroup(prog, run_cgroup_fd);
    if (link == nullptr) {
      return ErrnoStatus(absl::StrCat("attach ", bpf_program__name(prog), " to ", path), errno);
    }
    links_.push_back(link);
  }
  return absl::OkStatus();
}

Firewall::~Firewall() {
  if (ring_ != nullptr) ring_buffer__free(ring_);
  for (bpf_link* link : links_) bpf_link__destroy(link);
  if (unix_skel_ != nullptr) net_unix__destroy(unix_skel_);
  if (skel_ != nullptr) net_policy__destroy(skel_);
}

absl::Status Firewall::AddEntrypoint(uint64_t entrypoint_cgroup_id, const std::string& name,
                                     const CompiledPolicy& policy) {
  if (!ip_policy_hooks_) {
    return absl::FailedPreconditionError(
        absl::StrCat("entrypoint ", name,
                     ": the firewall was loaded without the IP policy programs, so a network "
                     "policy cannot be enforced"));
  }
  if (installed_.contains(entrypoint_cgroup_id)) {
    RETURN_IF_ERROR(RemoveEntrypoint(entrypoint_cgroup_id));
  }
  Progress done;
  if (absl::Status s = WriteEntries(skel_, entrypoint_cgroup_id, policy, done); !s.ok()) {
    DeleteEntries(skel_, entrypoint_cgroup_id, policy, done);
    return Annotate(s, absl::StrCat("entrypoint ", name));
  }
  // The policy entry goes in last: until it is there, the entrypoint is denied everything, so a
  // half-written rule set is never enforced as complete.
  net_ep_policy value{};
  value.flags = policy.flags;
  if (int rc = bpf_map_update_elem(bpf_map__fd(skel_->maps.policies), &entrypoint_cgroup_id, &value,
                                   BPF_ANY);
      rc != 0) {
    DeleteEntries(skel_, entrypoint_cgroup_id, policy, done);
    return ErrnoStatus(absl::StrCat("entrypoint ", name, ": install its network policy"), -rc);
  }
  names_[entrypoint_cgroup_id] = name;
  installed_[entrypoint_cgroup_id] = policy;
  return absl::OkStatus();
}

absl::Status Firewall::RemoveEntrypoint(uint64_t entrypoint_cgroup_id) {
  auto it = installed_.find(entrypoint_cgroup_id);
  if (it == installed_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no network policy installed for cgroup ", entrypoint_cgroup_id));
  }
  // Policy entry first: from then on everything is denied while the rules go. Then the epoch,
  // which voids the verdicts UDP sockets cached under the old rules (bpf/net_policy.bpf.c); in
  // that order, no judgement between the two can cache the old policy under the new epoch.
  bpf_map_delete_elem(bpf_map__fd(skel_->maps.policies), &entrypoint_cgroup_id);
  __atomic_fetch_add(&skel_->bss->policy_epoch, 1, __ATOMIC_SEQ_CST);
  DeleteEntries(skel_, entrypoint_cgroup_id, it->second,
                Progress{it->second.prefixes.size(), it->second.inbound.size()});
  installed_.erase(it);
  return absl::OkStatus();
}

int Firewall::denial_fd() const { return bpf_map__fd(skel_->maps.denials); }

int Firewall::OnRecord(void* ctx, void* data, size_t size) {
  auto* self = static_cast<Firewall*>(ctx);
  if (size < sizeof(net_event) || self->sink_ == nullptr) return 0;
  (*self->sink_)(self->Decode(data));
  return 0;
}

Denial Firewall::Decode(const void* data) const {
  net_event e;
  std::memcpy(&e, data, sizeof(e));
  Denial d;
  d.verdict = e.verdict == NET_VERDICT_AUDITED ? Verdict::kAudited : Verdict::kDenied;
  d.cgroup_id = e.cgroup_id;
  d.task_cgroup_id = e.task_cgroup_id;
  if (auto it = names_.find(e.cgroup_id); it != names_.end()) d.entrypoint = it->second;
  d.pid = e.tgid;
  d.comm.assign(e.comm, strnlen(e.comm, sizeof(e.comm)));
  d.direction = HookDirection(e.hook);
  d.hook = HookName(e.hook);
  d.family = e.family;
  d.port = e.port;
  d.protocol = e.protocol;
  d.sock_type = e.sock_type;
  d.timestamp_ns = e.timestamp_ns;
  if (e.family == AF_UNIX) {
    // An abstract name's first bytes, shown as "@name" (non-printable bytes as \xNN).
    std::string name = "@";
    for (size_t i = 0; i < sizeof(e.addr) && e.addr[i] != 0; ++i) {
      const unsigned char c = e.addr[i];
      if (c >= 0x20 && c < 0x7f) {
        absl::StrAppend(&name, absl::string_view(reinterpret_cast<const char*>(&e.addr[i]), 1));
      } else {
        absl::StrAppend(&name, "\\x", absl::Hex(c, absl::kZeroPad2));
      }
    }
    d.address = std::move(name);
  } else if (e.hook != NET_HOOK_SOCK_CREATE) {
    char text[INET6_ADDRSTRLEN] = {};
    if (e.family == AF_INET6) {
      inet_ntop(AF_INET6, e.addr, text, sizeof(text));
    } else {
      inet_ntop(AF_INET, e.addr, text, sizeof(text));
    }
    d.address = text;
  }
  return d;
}

uint64_t Firewall::DroppedTotal() const {
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return 0;
  std::vector<uint64_t> values(static_cast<size_t>(ncpu));
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.dropped), &zero, values.data()) != 0) return 0;
  uint64_t total = 0;
  for (uint64_t v : values) total += v;
  return total;
}

absl::Status Firewall::ConsumeDenials(const std::function<void(const Denial&)>& sink) {
  sink_ = &sink;
  const int n = ring_buffer__consume(ring_);
  sink_ = nullptr;
  if (n < 0) return ErrnoStatus("consume the denial ring buffer", -n);
  const uint64_t total = DroppedTotal();
  if (total > dropped_reported_) {
    Denial d;
    d.verdict = Verdict::kDropped;
    d.dropped = total - dropped_reported_;
    dropped_reported_ = total;
    sink(d);
  }
  return absl::OkStatus();
}

std::vector<uint32_t> Firewall::ProgramIds() const {
  std::vector<uint32_t> ids;
  for (bpf_object* obj : {skel_->obj, unix_skel_ ? unix_skel_->obj : nullptr}) {
    if (obj == nullptr) continue;
    bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, obj) {
      bpf_prog_info info{};
      uint32_t len = sizeof(info);
      if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0) {
        ids.push_back(info.id);
      }
    }
  }
  return ids;
}

}  // namespace shim::net
