// The typed model of a shim-bpf spec (design.md section 3). Parsing (parse.h) fills it from JSON;
// semantic checks (validate.h) judge it. Every element remembers the JSON pointer it came from,
// so later stages can report errors at the right place.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/time/time.h"

namespace shim::spec {

enum class Direction { kRx, kTx };

// --- args: each becomes one or more argv words of the entrypoint, in order -----------------
struct ArgBinaryName {};  // the binary's name: its basename, or the entrypoint's "argv0"
struct ArgEntrypoint {};  // the entrypoint's name
struct ArgTrigger {};     // what the trigger delivered: the message, or the received fds
struct ArgTriggerFd {};   // a pipe trigger's message as a sealed read-only memfd (binary data)
struct ArgTrailing {};    // the words after `--` on the shim-bpf command line, 0 or more
struct ArgLiteral {       // {"Literal": "-m"}: one argv word, verbatim
  std::string text;
};
struct ArgFile {  // a host file opened read-only by the supervisor, passed as an fd
  std::string path;
};
struct ArgPipe {  // one end of a named packet pipe, passed as an fd
  Direction direction;
  std::string name;
};
struct ArgFileSocket {  // one end of a named fd-passing socket, passed as an fd
  Direction direction;
  std::string name;
};
struct SocketAddress {  // a parsed IPv4 or IPv6 address and port
  bool ipv6 = false;
  std::array<uint8_t, 16> address{};  // IPv4 uses the first 4 bytes, network order
  uint16_t port = 0;
  std::string text;  // as written, for messages
};
struct ArgTcpListener {  // a listening TCP socket bound by the supervisor, passed as an fd
  SocketAddress address;
};
using ArgKind = std::variant<ArgBinaryName, ArgEntrypoint, ArgTrigger, ArgTriggerFd, ArgTrailing,
                             ArgLiteral, ArgFile, ArgPipe, ArgFileSocket, ArgTcpListener>;
struct Arg {
  ArgKind kind;
  std::string pointer;  // e.g. /entrypoints/listener/args/2
};

// --- environment: what exists inside the void ------------------------------------------------
struct EnvFilesystem {
  std::string host_path;
  std::string environment_path;  // absolute, normalised, never "/"
  bool read_only = true;
  // Mounted without noexec (and Landlock's EXECUTE right): "exec": true on a read-only grant,
  // "exec": "writable" on a writable one (a void could then run code it wrote there).
  bool exec = false;
};
struct EnvHostname {
  std::string name;
};
struct EnvDomainName {
  std::string name;
};
struct EnvTmpfs {  // a fresh, empty, writable tmpfs for each instance (noexec)
  std::string environment_path;  // absolute, normalised, never "/"
  uint64_t size_bytes = 16ull << 20;
};
struct EnvProcfs {};
struct EnvStdin {};
struct EnvStdout {};
struct EnvStderr {};
using EnvironmentKind = std::variant<EnvFilesystem, EnvHostname, EnvDomainName, EnvProcfs, EnvStdin,
                                     EnvStdout, EnvStderr, EnvTmpfs>;
struct Environment {
  EnvironmentKind kind;
  std::string pointer;
};

// --- trigger: what starts an instance ---------------------------------------------------------
struct TriggerStartup {};  // once, when the run starts (the default)
struct TriggerPipe {       // once per message on the named pipe
  std::string name;
};
struct TriggerFileSocket {  // once per batch of fds on the named file socket
  std::string name;
};
struct TriggerTcpListener {  // once per connection accepted on a socket the supervisor listens on
  SocketAddress address;
  uint32_t max_per_source = 0;  // in-flight connections per client address; 0: no cap
};
struct TriggerUnixListener {  // once per connection on a unix stream socket bound at a host path
  std::string path;           // absolute after LoadSpecFile
};
using TriggerKind = std::variant<TriggerStartup, TriggerPipe, TriggerFileSocket, TriggerTcpListener,
                                 TriggerUnixListener>;
struct Trigger {
  TriggerKind kind = TriggerStartup{};
  std::string pointer;
};

// --- stdio: what fd 0, 1 and 2 of each instance are ------------------------------------------
struct StdioNull {};     // /dev/null (the default)
struct StdioInherit {};  // the supervisor's own (what the environment items Stdin/Stdout/Stderr say)
struct StdioTrigger {};  // the connection or the batch's first fd; a pipe message as a sealed memfd
struct StdioFile {       // stdin only: a host file, opened read-only like a File arg
  std::string path;
};
// One end of a named channel, like the Pipe and FileSocket args (their ArgPipe / ArgFileSocket):
// stdout as a pipe's Tx end makes every write a message to the entrypoint it triggers.
using StdioKind =
    std::variant<StdioNull, StdioInherit, StdioTrigger, StdioFile, ArgPipe, ArgFileSocket>;
struct StdioStream {
  StdioKind kind = StdioNull{};
  std::string pointer;  // where it was set (a "stdio" key or an environment item); "" if not
};

// --- network ----------------------------------------------------------------------------------
enum class NetworkMode { kEnforce, kAudit };
enum class Protocol { kAny, kTcp, kUdp };
struct Cidr {
  bool ipv6 = false;
  std::array<uint8_t, 16> address{};  // masked to prefix_len; IPv4 in the first 4 bytes
  uint8_t prefix_len = 0;
  std::string text;
};
struct PortRange {
  uint16_t first = 1;
  uint16_t last = 65535;
};
struct OutboundRule {
  Cidr cidr;
  std::vector<PortRange> ports;  // empty: every port
  Protocol protocol = Protocol::kAny;
  std::string pointer;
};
struct InboundRule {
  uint16_t port = 0;
  Protocol protocol = Protocol::kTcp;
  std::string pointer;
};
struct NetworkPolicy {
  NetworkMode mode = NetworkMode::kEnforce;
  std::vector<OutboundRule> outbound;
  std::vector<InboundRule> inbound;
  std::string pointer;
};

// --- limits -----------------------------------------------------------------------------------
struct Limits {
  std::optional<uint64_t> memory_bytes;   // "64M", "1G", or a number of bytes
  std::optional<uint32_t> pids;           // max tasks in one instance
  std::optional<uint32_t> cpu_percent;    // "50%": of one CPU; "200%": two CPUs
  std::optional<absl::Duration> timeout;  // "30s", "500ms", "2m"
  std::optional<uint32_t> concurrency;    // in-flight instances of a triggered entrypoint
  std::string pointer;
};

// --- the whole spec -----------------------------------------------------------------------------
struct Entrypoint {
  std::string name;
  std::optional<std::string> binary;  // per-entrypoint override, as written
  Trigger trigger;
  std::vector<Arg> args;  // default: [BinaryName]
  std::vector<Environment> environment;
  std::optional<NetworkPolicy> network;  // absent: no network at all
  // Unix sockets of the void's own (socket(AF_UNIX)): off by default, since with them a void can
  // connect to host daemons' sockets inside its grants and, when networked, listen on abstract
  // names of the host's network namespace. socketpair and the run's channels need no grant.
  bool unix_sockets = false;
  // The void's environment, "NAME=value" in order: after LoadSpec, the defaults (kDefaultEnv),
  // then the spec's top-level "env", then the entrypoint's, then what "env_inherit" (top level and
  // entrypoint's) names from the supervisor's own environment. Later entries replace earlier
  // ones of the same name.
  std::vector<std::string> env;
  std::vector<std::string> env_inherit;  // names, as written
  std::array<StdioStream, 3> stdio;   // stdin, stdout, stderr
  std::optional<std::string> argv0;   // what BinaryName gives (default: the binary's basename)
  std::optional<std::string> cwd;     // the working directory in the void (default: /)
  int stop_signal = 15;               // sent on shutdown, before the grace period's SIGKILL
  // A minimal init (shim-init) is pid 1 and runs the binary as its child: it forwards signals
  // and reaps orphans, so an app that ignores signals as pid 1 still stops at once.
  bool init = false;
  Limits limits;
  std::string pointer;      // /entrypoints/<name>
  std::string binary_path;  // absolute path of the binary to run, resolved by LoadSpecFile
};

// What every void's environment starts with (nothing of the supervisor's own leaks).
inline constexpr const char* kDefaultEnv[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/",
                                              "LANG=C.UTF-8"};

struct Spec {
  std::optional<std::string> binary;     // as written; relative to the spec file's folder
  std::vector<std::string> env;          // top-level "env" ("NAME=value"): every entrypoint's
  std::vector<std::string> env_inherit;  // top-level "env_inherit": names
  std::string source_path;               // the spec file, as given
  std::string source_dir;                // its folder (absolute): relative paths resolve here
  std::vector<Entrypoint> entrypoints;   // in file order
};

}  // namespace shim::spec
