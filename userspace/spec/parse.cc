#include "spec/parse.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "spec/json_reader.h"
#include "spec/suggest.h"
#include "spec/values.h"

namespace shim::spec {
namespace {

using json = nlohmann::ordered_json;

const std::vector<std::string> kTopLevelKeys = {"binary",      "entrypoints", "env",
                                                "env_inherit", "$schema",     "$comment"};
const std::vector<std::string> kEntrypointKeys = {
    "binary", "trigger",     "args",         "environment", "network", "env",
    "env_inherit", "unix_sockets", "stdio", "argv0", "cwd", "stop_signal",
    "init", "limits", "$comment"};
const std::vector<std::string> kUnitArgs = {"BinaryName",  "Entrypoint", "Trigger",
                                            "PipeTrigger", "TriggerFd",  "Trailing"};
const std::vector<std::string> kPayloadArgs = {"Literal", "File", "Pipe", "FileSocket",
                                               "TcpListener"};
const std::vector<std::string> kUnitEnvironment = {"Procfs", "Stdin", "Stdout", "Stderr"};
const std::vector<std::string> kPayloadEnvironment = {"Filesystem", "Tmpfs", "Hostname",
                                                      "DomainName"};
const std::vector<std::string> kTmpfsKeys = {"environment_path", "size"};
const std::vector<std::string> kStdioKeys = {"stdin", "stdout", "stderr"};
const std::vector<std::string> kUnitStdio = {"Null", "Inherit", "Trigger"};
const std::vector<std::string> kPayloadStdio = {"File", "Pipe", "FileSocket"};
// The signals a spec may name as "stop_signal", with and without the SIG prefix.
const std::vector<std::pair<std::string, int>> kStopSignals = {
    {"SIGTERM", 15}, {"SIGINT", 2},   {"SIGQUIT", 3},   {"SIGHUP", 1},
    {"SIGUSR1", 10}, {"SIGUSR2", 12}, {"SIGWINCH", 28}, {"SIGKILL", 9}};
const std::vector<std::string> kUnitTriggers = {"Startup"};
const std::vector<std::string> kPayloadTriggers = {"Pipe", "FileSocket", "TcpListener",
                                                   "UnixListener"};
const std::vector<std::string> kUnixListenerKeys = {"path"};
const std::vector<std::string> kFilesystemKeys = {"host_path", "environment_path", "read_only",
                                                  "exec"};
const std::vector<std::string> kDirections = {"Rx", "Tx"};
const std::vector<std::string> kTcpListenerKeys = {"addr", "port"};
const std::vector<std::string> kTcpListenerTriggerKeys = {"addr", "port", "max_per_source"};
const std::vector<std::string> kNetworkKeys = {"mode", "outbound", "inbound"};
const std::vector<std::string> kModes = {"enforce", "audit"};
const std::vector<std::string> kOutboundKeys = {"cidr", "ports", "protocol"};
const std::vector<std::string> kInboundKeys = {"port", "protocol"};
const std::vector<std::string> kProtocols = {"tcp", "udp", "any"};
const std::vector<std::string> kUnitNetworks = {"InternetV4", "InternetV6"};
const std::vector<std::string> kPayloadNetworks = {"PrivateV4", "PrivateV6"};
const std::vector<std::string> kLimitKeys = {"memory", "pids", "cpu", "timeout", "concurrency"};

std::string TypeName(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "an unknown value";
  }
}

// A tagged value in the prototype's (serde's) external tagging: either "Name" for a variant
// without data, or {"Name": payload} for one with data.
struct Tagged {
  std::string tag;
  const json* payload = nullptr;  // null for a unit variant
  std::string payload_pointer;
};

class Parser {
 public:
  explicit Parser(std::vector<Diagnostic>& diagnostics) : diagnostics_(diagnostics) {}

  Spec ParseDocument(const json& document) {
    Spec spec;
    if (!Expect(document, "", json::value_t::object, "the spec",
                "a spec is a JSON object with an \"entrypoints\" member")) {
      return spec;
    }
    CheckKeys(document, "", kTopLevelKeys, "top-level key");
    if (auto it = document.find("binary"); it != document.end()) {
      spec.binary = NonEmptyString(*it, "/binary", "binary");
    }
    ParseEnv(document, "", spec.env, spec.env_inherit);
    auto entrypoints = document.find("entrypoints");
    if (entrypoints == document.end()) {
      Error("", "missing \"entrypoints\"", "add \"entrypoints\": {\"main\": {}}");
      return spec;
    }
    if (!Expect(*entrypoints, "/entrypoints", json::value_t::object, "\"entrypoints\"",
                "an object mapping entrypoint names to their grants")) {
      return spec;
    }
    if (entrypoints->empty()) {
      Error("/entrypoints", "no entrypoints", "declare at least one entrypoint");
    }
    for (const auto& [name, body] : entrypoints->items()) {
      spec.entrypoints.push_back(ParseEntrypoint(name, body));
    }
    return spec;
  }

 private:
  void Error(std::string pointer, std::string message, std::string hint = "") {
    diagnostics_.push_back(
        {Severity::kError, std::move(pointer), std::move(message), std::move(hint)});
  }

  bool Expect(const json& value, const std::string& pointer, json::value_t type,
              absl::string_view what, absl::string_view hint = "") {
    const bool matches = value.type() == type ||
                         (type == json::value_t::number_unsigned && value.is_number_integer());
    if (!matches) {
      const std::string expected = type == json::value_t::object    ? "an object"
                                   : type == json::value_t::array   ? "an array"
                                   : type == json::value_t::string  ? "a string"
                                   : type == json::value_t::boolean ? "a boolean"
                                                                    : "an integer";
      Error(pointer, absl::StrCat(what, " must be ", expected, ", not ", TypeName(value)),
            std::string(hint));
    }
    return matches;
  }

  void CheckKeys(const json& object, const std::string& pointer,
                 const std::vector<std::string>& allowed, absl::string_view what) {
    for (const auto& [key, value] : object.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        Error(PointerAppend(pointer, key), absl::StrCat("unknown ", what, " \"", key, "\""),
              SuggestionHint(key, allowed));
      }
    }
  }

  // A string without NUL bytes (it becomes a C string: an argv word, a path, an envp entry).
  std::optional<std::string> String(const json& value, const std::string& pointer,
                                    absl::string_view what) {
    if (!Expect(value, pointer, json::value_t::string, what)) return std::nullopt;
    std::string text = value.get<std::string>();
    if (text.find('\0') != std::string::npos) {
      Error(pointer, absl::StrCat(what, " contains a NUL byte"));
      return std::nullopt;
    }
    return text;
  }

  std::optional<std::string> NonEmptyString(const json& value, const std::string& pointer,
                                            absl::string_view what) {
    std::optional<std::string> text = String(value, pointer, what);
    if (text && text->empty()) {
      Error(pointer, absl::StrCat(what, " must not be empty"));
      return std::nullopt;
    }
    return text;
  }

  // Reads an externally tagged value; reports a wrong shape or an unknown tag. With
  // `literal_tag`, the hint for an unknown plain string also shows it wrapped in that tag.
  std::optional<Tagged> ReadTagged(const json& value, const std::string& pointer,
                                   absl::string_view what, const std::vector<std::string>& units,
                                   const std::vector<std::string>& payloads,
                                   absl::string_view literal_tag = "") {
    std::vector<std::string> all = units;
    all.insert(all.end(), payloads.begin(), payloads.end());
    auto is_one_of = [](const std::string& tag, const std::vector<std::string>& names) {
      return std::find(names.begin(), names.end(), tag) != names.end();
    };
    if (value.is_string()) {
      std::string tag = value.get<std::string>();
      if (is_one_of(tag, units)) return Tagged{tag, nullptr, pointer};
      if (is_one_of(tag, payloads)) {
        Error(pointer, absl::StrCat(what, " \"", tag, "\" needs a value"),
              absl::StrCat("write {\"", tag, "\": ...}"));
      } else {
        std::string hint = SuggestionHint(tag, all);
        if (!literal_tag.empty()) {
          absl::StrAppend(&hint, hint.empty() ? "" : "; ", "for the word itself, write {\"",
                          literal_tag, "\": ", json(tag).dump(), "}");
        }
        Error(pointer, absl::StrCat("unknown ", what, " \"", tag, "\""), std::move(hint));
      }
      return std::nullopt;
    }
    if (value.is_object() && value.size() == 1) {
      const auto first = value.begin();
      const std::string& tag = first.key();
      const json& payload = first.value();
      const std::string payload_pointer = PointerAppend(pointer, tag);
      if (is_one_of(tag, payloads)) return Tagged{tag, &payload, payload_pointer};
      if (is_one_of(tag, units)) {
        Error(payload_pointer, absl::StrCat(what, " \"", tag, "\" takes no value"),
              absl::StrCat("write \"", tag, "\" as a plain string"));
      } else {
        Error(payload_pointer, absl::StrCat("unknown ", what, " \"", tag, "\""),
              SuggestionHint(tag, all));
      }
      return std::nullopt;
    }
    Error(pointer,
          absl::StrCat(what, " must be a string or an object with exactly one key, not ",
                       value.is_object() ? absl::StrCat("an object with ", value.size(), " keys")
                                         : TypeName(value)),
          absl::StrCat("one of: ", absl::StrJoin(all, ", ")));
    return std::nullopt;
  }

  // {"Rx": "name"} or {"Tx": "name"}
  std::optional<std::pair<Direction, std::string>> ReadDirection(const Tagged& tagged) {
    auto direction = ReadTagged(*tagged.payload, tagged.payload_pointer,
                                absl::StrCat(tagged.tag, " direction"), {}, kDirections);
    if (!direction) return std::nullopt;
    auto name = ChannelName(*direction->payload, direction->payload_pointer, tagged.tag);
    if (!name) return std::nullopt;
    return std::make_pair(direction->tag == "Rx" ? Direction::kRx : Direction::kTx, *name);
  }

  std::optional<std::string> ChannelName(const json& value, const std::string& pointer,
                                         absl::string_view kind) {
    auto name = NonEmptyString(value, pointer, absl::StrCat(kind, " name"));
    if (name && !IsValidChannelName(*name)) {
      Error(pointer, absl::StrCat(kind, " name \"", *name, "\" is not a valid name"),
            "use letters, digits, '_', '.' and '-' (not first), at most 64 bytes");
      return std::nullopt;
    }
    return name;
  }

  Entrypoint ParseEntrypoint(const std::string& name, const json& body) {
    Entrypoint entrypoint;
    entrypoint.name = name;
    entrypoint.pointer = PointerAppend("/entrypoints", name);
    const std::string& pointer = entrypoint.pointer;
    entrypoint.trigger.pointer = pointer + "/trigger";
    entrypoint.limits.pointer = pointer + "/limits";
    if (!IsValidEntrypointName(name)) {
      Error(pointer, absl::StrCat("entrypoint name \"", name, "\" is not a valid argv word"),
            "use letters, digits, '_', '.' and '-' (not first), at most 64 bytes");
    }
    if (!Expect(body, pointer, json::value_t::object, "an entrypoint")) return entrypoint;
    CheckKeys(body, pointer, kEntrypointKeys, "entrypoint key");
    if (auto it = body.find("binary"); it != body.end()) {
      entrypoint.binary = NonEmptyString(*it, pointer + "/binary", "binary");
    }
    if (auto it = body.find("trigger"); it != body.end()) {
      ParseTrigger(*it, entrypoint.trigger);
    }
    if (auto it = body.find("args"); it == body.end()) {
      entrypoint.args.push_back({ArgBinaryName{}, pointer + "/args"});  // the prototype's default
    } else if (Expect(*it, pointer + "/args", json::value_t::array, "\"args\"")) {
      for (size_t i = 0; i < it->size(); ++i) {
        const std::string arg_pointer = absl::StrCat(pointer, "/args/", i);
        if (auto kind = ParseArg((*it)[i], arg_pointer)) {
          entrypoint.args.push_back({std::move(*kind), arg_pointer});
        }
      }
    }
    if (auto it = body.find("environment");
        it != body.end() &&
        Expect(*it, pointer + "/environment", json::value_t::array, "\"environment\"")) {
      for (size_t i = 0; i < it->size(); ++i) {
        const std::string env_pointer = absl::StrCat(pointer, "/environment/", i);
        if (auto kind = ParseEnvironment((*it)[i], env_pointer)) {
          entrypoint.environment.push_back({std::move(*kind), env_pointer});
        }
      }
    }
    if (auto it = body.find("network"); it != body.end()) {
      entrypoint.network = ParseNetwork(*it, pointer + "/network");
    }
    ParseEnv(body, pointer, entrypoint.env, entrypoint.env_inherit);
    if (auto it = body.find("unix_sockets");
        it != body.end() &&
        Expect(*it, pointer + "/unix_sockets", json::value_t::boolean, "\"unix_sockets\"")) {
      entrypoint.unix_sockets = it->get<bool>();
    }
    if (auto it = body.find("stdio"); it != body.end()) {
      ParseStdio(*it, pointer + "/stdio", entrypoint.stdio);
    }
    // The environment items Stdin/Stdout/Stderr are the older way to say "Inherit".
    for (const Environment& item : entrypoint.environment) {
      const int stream = std::holds_alternative<EnvStdin>(item.kind)    ? 0
                         : std::holds_alternative<EnvStdout>(item.kind) ? 1
                         : std::holds_alternative<EnvStderr>(item.kind) ? 2
                                                                        : -1;
      if (stream < 0) continue;
      StdioStream& target = entrypoint.stdio[stream];
      if (!target.pointer.empty() && !std::holds_alternative<StdioInherit>(target.kind)) {
        Error(target.pointer,
              absl::StrCat(kStdioKeys[stream], " is set here and by the environment item at ",
                           item.pointer),
              "say it once: the environment items Stdin/Stdout/Stderr mean \"Inherit\"");
        continue;
      }
      if (target.pointer.empty()) target = {StdioInherit{}, item.pointer};
    }
    if (auto it = body.find("argv0"); it != body.end()) {
      entrypoint.argv0 = NonEmptyString(*it, pointer + "/argv0", "\"argv0\"");
    }
    if (auto it = body.find("cwd"); it != body.end()) {
      entrypoint.cwd = NonEmptyString(*it, pointer + "/cwd", "\"cwd\"");
      if (entrypoint.cwd && entrypoint.cwd->front() != '/') {
        Error(pointer + "/cwd", absl::StrCat("\"cwd\" \"", *entrypoint.cwd, "\" is not absolute"),
              "it is a path inside the void, e.g. \"/data\"");
      }
    }
    if (auto it = body.find("stop_signal"); it != body.end()) {
      ParseStopSignal(*it, pointer + "/stop_signal", entrypoint.stop_signal);
    }
    if (auto it = body.find("init");
        it != body.end() && Expect(*it, pointer + "/init", json::value_t::boolean, "\"init\"")) {
      entrypoint.init = it->get<bool>();
    }
    if (auto it = body.find("limits"); it != body.end()) {
      ParseLimits(*it, entrypoint.limits);
    }
    return entrypoint;
  }

  // "env": {"NAME": "value"} and "env_inherit": ["NAME"] of `object` (the spec or an entrypoint).
  void ParseEnv(const json& object, const std::string& pointer, std::vector<std::string>& env,
                std::vector<std::string>& inherit) {
    auto name_ok = [&](const std::string& name, const std::string& at) {
      if (name.empty() || name.find_first_of(std::string("=\0", 2)) != std::string::npos) {
        Error(at,
              absl::StrCat("environment variable name ", json(name).dump(),
                           " is empty or holds '=' or NUL"),
              "names are words like PATH or PYTHONPATH");
        return false;
      }
      return true;
    };
    if (auto it = object.find("env");
        it != object.end() && Expect(*it, pointer + "/env", json::value_t::object, "\"env\"",
                                     "write {\"NAME\": \"value\"}")) {
      for (const auto& [name, value] : it->items()) {
        const std::string at = PointerAppend(pointer + "/env", name);
        if (!name_ok(name, at)) continue;
        if (auto text = String(value, at, "an environment variable's value")) {
          env.push_back(absl::StrCat(name, "=", *text));
        }
      }
    }
    if (auto it = object.find("env_inherit");
        it != object.end() && Expect(*it, pointer + "/env_inherit", json::value_t::array,
                                     "\"env_inherit\"", "write [\"TZ\", \"LANG\"]")) {
      for (size_t i = 0; i < it->size(); ++i) {
        const std::string at = absl::StrCat(pointer, "/env_inherit/", i);
        if (!Expect((*it)[i], at, json::value_t::string, "an inherited variable's name")) continue;
        const std::string name = (*it)[i].get<std::string>();
        if (name_ok(name, at)) inherit.push_back(name);
      }
    }
  }

  // "stdio": {"stdin": "Trigger", "stdout": "Trigger"}: each stream "Null" (the default),
  // "Inherit" (the supervisor's own), "Trigger", a channel end ({"Pipe": {"Tx": "name"}}), or
  // {"File": "path"} (stdin only).
  void ParseStdio(const json& value, const std::string& pointer, std::array<StdioStream, 3>& out) {
    if (!Expect(value, pointer, json::value_t::object, "\"stdio\"",
                "write {\"stdin\": \"Trigger\", \"stdout\": \"Trigger\"}")) {
      return;
    }
    CheckKeys(value, pointer, kStdioKeys, "stdio stream");
    for (size_t stream = 0; stream < kStdioKeys.size(); ++stream) {
      auto it = value.find(kStdioKeys[stream]);
      if (it == value.end()) continue;
      const std::string at = PointerAppend(pointer, kStdioKeys[stream]);
      auto tagged = ReadTagged(*it, at, "stdio source", kUnitStdio, kPayloadStdio);
      if (!tagged) continue;
      StdioStream& target = out[stream];
      target.pointer = at;
      if (tagged->tag == "Null") {
        target.kind = StdioNull{};
      } else if (tagged->tag == "Inherit") {
        target.kind = StdioInherit{};
      } else if (tagged->tag == "Trigger") {
        target.kind = StdioTrigger{};
      } else if (tagged->tag == "Pipe" || tagged->tag == "FileSocket") {
        auto direction = ReadDirection(*tagged);
        if (!direction) continue;
        if (tagged->tag == "Pipe") {
          target.kind = ArgPipe{direction->first, direction->second};
        } else {
          target.kind = ArgFileSocket{direction->first, direction->second};
        }
      } else if (stream != 0) {
        Error(tagged->payload_pointer, "a File can only be stdin (it is opened read-only)",
              "write output to a writable Filesystem grant, or \"Inherit\" the supervisor's");
      } else if (auto path =
                     NonEmptyString(*tagged->payload, tagged->payload_pointer, "File path")) {
        target.kind = StdioFile{*path};
      }
    }
  }

  void ParseStopSignal(const json& value, const std::string& pointer, int& signal) {
    auto text = NonEmptyString(value, pointer, "\"stop_signal\"");
    if (!text) return;
    const std::string name = absl::StartsWith(*text, "SIG") ? *text : absl::StrCat("SIG", *text);
    for (const auto& [known, number] : kStopSignals) {
      if (known == name) {
        signal = number;
        return;
      }
    }
    std::vector<std::string> names;
    names.reserve(kStopSignals.size());
    for (const auto& [known, number] : kStopSignals) names.push_back(known);
    std::string hint = SuggestionHint(name, names);
    Error(pointer, absl::StrCat("unknown stop signal ", json(*text).dump()),
          hint.empty() ? absl::StrCat("one of: ", absl::StrJoin(names, ", ")) : hint);
  }

  void ParseTrigger(const json& value, Trigger& trigger) {
    auto tagged = ReadTagged(value, trigger.pointer, "trigger", kUnitTriggers, kPayloadTriggers);
    if (!tagged || tagged->tag == "Startup") return;
    if (tagged->tag == "TcpListener") {
      const json& payload = *tagged->payload;
      if (payload.is_object()) {
        CheckKeys(payload, tagged->payload_pointer, kTcpListenerTriggerKeys, "TcpListener key");
      }
      auto address = ParseTcpListenerAddress(payload, tagged->payload_pointer, /*keys=*/false);
      if (!address) return;
      TriggerTcpListener listener{*std::move(address)};
      if (auto it = payload.find("max_per_source"); it != payload.end()) {
        const std::string at = tagged->payload_pointer + "/max_per_source";
        if (Expect(*it, at, json::value_t::number_unsigned, "\"max_per_source\"")) {
          if (!it->is_number_unsigned() || it->get<uint64_t>() < 1 ||
              it->get<uint64_t>() > 1000000) {
            Error(at, absl::StrCat("\"max_per_source\" ", it->dump(), " is out of range"),
                  "a number of connections, 1 to 1000000");
          } else {
            listener.max_per_source = static_cast<uint32_t>(it->get<uint64_t>());
          }
        }
      }
      trigger.kind = std::move(listener);
      return;
    }
    if (tagged->tag == "UnixListener") {
      const json& payload = *tagged->payload;
      if (!Expect(payload, tagged->payload_pointer, json::value_t::object, "UnixListener",
                  "write {\"path\": \"/run/app.sock\"}")) {
        return;
      }
      CheckKeys(payload, tagged->payload_pointer, kUnixListenerKeys, "UnixListener key");
      auto it = payload.find("path");
      if (it == payload.end()) {
        Error(tagged->payload_pointer, "UnixListener needs \"path\"");
        return;
      }
      const std::string at = tagged->payload_pointer + "/path";
      auto path = NonEmptyString(*it, at, "UnixListener path");
      if (!path) return;
      // sun_path holds 108 bytes; the supervisor binds through /proc/self/fd/N/ (about 20 more).
      if (path->size() > 80) {
        Error(at, "UnixListener path is longer than 80 bytes",
              "a unix socket's address is short; choose a shorter folder");
        return;
      }
      trigger.kind = TriggerUnixListener{*path};
      return;
    }
    auto name = ChannelName(*tagged->payload, tagged->payload_pointer, tagged->tag);
    if (!name) return;
    if (tagged->tag == "Pipe") {
      trigger.kind = TriggerPipe{*name};
    } else {
      trigger.kind = TriggerFileSocket{*name};
    }
  }

  std::optional<ArgKind> ParseArg(const json& value, const std::string& pointer) {
    // A word that is no arg name was most likely meant literally ("-m"): the hint says how.
    auto tagged = ReadTagged(value, pointer, "arg", kUnitArgs, kPayloadArgs, "Literal");
    if (!tagged) return std::nullopt;
    const std::string& tag = tagged->tag;
    if (tag == "BinaryName") return ArgBinaryName{};
    if (tag == "Literal") {
      auto text = String(*tagged->payload, tagged->payload_pointer, "a Literal arg");
      if (!text) return std::nullopt;
      return ArgLiteral{*std::move(text)};
    }
    if (tag == "Entrypoint") return ArgEntrypoint{};
    if (tag == "Trigger" || tag == "PipeTrigger") return ArgTrigger{};
    if (tag == "TriggerFd") return ArgTriggerFd{};
    if (tag == "Trailing") return ArgTrailing{};
    if (tag == "File") {
      auto path = NonEmptyString(*tagged->payload, tagged->payload_pointer, "File path");
      if (!path) return std::nullopt;
      return ArgFile{*path};
    }
    if (tag == "Pipe" || tag == "FileSocket") {
      auto direction = ReadDirection(*tagged);
      if (!direction) return std::nullopt;
      if (tag == "Pipe") return ArgPipe{direction->first, direction->second};
      return ArgFileSocket{direction->first, direction->second};
    }
    return ParseTcpListener(*tagged->payload, tagged->payload_pointer);
  }

  std::optional<ArgKind> ParseTcpListener(const json& value, const std::string& pointer) {
    auto address = ParseTcpListenerAddress(value, pointer, /*keys=*/true);
    if (!address) return std::nullopt;
    return ArgTcpListener{*std::move(address)};
  }

  // {"addr": "127.0.0.1:8080"} or {"port": 8080}; `keys`: also report unknown keys.
  std::optional<SocketAddress> ParseTcpListenerAddress(const json& value,
                                                       const std::string& pointer, bool keys) {
    if (!Expect(value, pointer, json::value_t::object, "TcpListener",
                "write {\"addr\": \"127.0.0.1:8080\"} or {\"port\": 8080}")) {
      return std::nullopt;
    }
    if (keys) CheckKeys(value, pointer, kTcpListenerKeys, "TcpListener key");
    auto addr = value.find("addr");
    auto port = value.find("port");
    if ((addr == value.end()) == (port == value.end())) {
      Error(pointer, "TcpListener needs exactly one of \"addr\" and \"port\"",
            "\"addr\": \"[::1]:8080\" binds one address; \"port\": 8080 binds 0.0.0.0:8080");
      return std::nullopt;
    }
    std::string text;
    std::string value_pointer;
    if (addr != value.end()) {
      value_pointer = pointer + "/addr";
      auto addr_text = NonEmptyString(*addr, value_pointer, "TcpListener addr");
      if (!addr_text) return std::nullopt;
      text = *addr_text;
    } else {
      value_pointer = pointer + "/port";
      auto number = Port(*port, value_pointer);
      if (!number) return std::nullopt;
      text = absl::StrCat("0.0.0.0:", *number);
    }
    auto address = ParseSocketAddress(text);
    if (!address.ok()) {
      Error(value_pointer, std::string(address.status().message()));
      return std::nullopt;
    }
    return *std::move(address);
  }

  std::optional<uint16_t> Port(const json& value, const std::string& pointer) {
    if (!Expect(value, pointer, json::value_t::number_unsigned, "a port")) return std::nullopt;
    if (!value.is_number_unsigned() || value.get<uint64_t>() < 1 || value.get<uint64_t>() > 65535) {
      Error(pointer, absl::StrCat("port ", value.dump(), " is out of range"),
            "ports are 1 to 65535");
      return std::nullopt;
    }
    return static_cast<uint16_t>(value.get<uint64_t>());
  }

  std::optional<EnvironmentKind> ParseEnvironment(const json& value, const std::string& pointer) {
    auto tagged =
        ReadTagged(value, pointer, "environment item", kUnitEnvironment, kPayloadEnvironment);
    if (!tagged) return std::nullopt;
    const std::string& tag = tagged->tag;
    if (tag == "Procfs") return EnvProcfs{};
    if (tag == "Stdin") return EnvStdin{};
    if (tag == "Stdout") return EnvStdout{};
    if (tag == "Stderr") return EnvStderr{};
    if (tag == "Hostname" || tag == "DomainName") {
      auto name = NonEmptyString(*tagged->payload, tagged->payload_pointer, tag);
      if (!name) return std::nullopt;
      if (name->size() > 64) {
        Error(tagged->payload_pointer, absl::StrCat(tag, " is longer than 64 bytes"));
        return std::nullopt;
      }
      if (tag == "Hostname") return EnvHostname{*name};
      return EnvDomainName{*name};
    }
    if (tag == "Tmpfs") return ParseTmpfs(*tagged->payload, tagged->payload_pointer);
    return ParseFilesystem(*tagged->payload, tagged->payload_pointer);
  }

  std::optional<EnvironmentKind> ParseTmpfs(const json& value, const std::string& pointer) {
    if (!Expect(value, pointer, json::value_t::object, "Tmpfs",
                "write {\"environment_path\": \"/tmp\", \"size\": \"16M\"}")) {
      return std::nullopt;
    }
    CheckKeys(value, pointer, kTmpfsKeys, "Tmpfs key");
    EnvTmpfs tmpfs;
    auto it = value.find("environment_path");
    if (it == value.end()) {
      Error(pointer, "Tmpfs needs \"environment_path\"");
      return std::nullopt;
    }
    auto path = NonEmptyString(*it, pointer + "/environment_path", "environment_path");
    if (!path) return std::nullopt;
    tmpfs.environment_path = *path;
    if (auto size_it = value.find("size"); size_it != value.end()) {
      auto text = NonEmptyString(*size_it, pointer + "/size", "Tmpfs size");
      if (!text) return std::nullopt;
      absl::StatusOr<uint64_t> size = ParseSize(*text);
      if (!size.ok()) {
        Error(pointer + "/size", std::string(size.status().message()), "e.g. \"16M\"");
        return std::nullopt;
      }
      tmpfs.size_bytes = *size;
    }
    return tmpfs;
  }

  std::optional<EnvironmentKind> ParseFilesystem(const json& value, const std::string& pointer) {
    if (!Expect(value, pointer, json::value_t::object, "Filesystem",
                "write {\"host_path\": \"/srv/data\", \"environment_path\": \"/data\"}")) {
      return std::nullopt;
    }
    CheckKeys(value, pointer, kFilesystemKeys, "Filesystem key");
    EnvFilesystem grant;
    bool ok = true;
    for (const char* key : {"host_path", "environment_path"}) {
      auto it = value.find(key);
      if (it == value.end()) {
        Error(pointer, absl::StrCat("Filesystem needs \"", key, "\""));
        ok = false;
        continue;
      }
      auto text = NonEmptyString(*it, PointerAppend(pointer, key), key);
      if (!text) {
        ok = false;
        continue;
      }
      (std::string(key) == "host_path" ? grant.host_path : grant.environment_path) = *text;
    }
    if (auto it = value.find("read_only"); it != value.end()) {
      if (Expect(*it, pointer + "/read_only", json::value_t::boolean, "\"read_only\"")) {
        grant.read_only = it->get<bool>();
      } else {
        ok = false;
      }
    }
    if (auto it = value.find("exec"); it != value.end()) {
      // true for a read-only grant; a writable one says "writable", on purpose: the void could
      // then run code it wrote.
      const std::string at = pointer + "/exec";
      if (it->is_boolean()) {
        grant.exec = it->get<bool>();
        if (grant.exec && !grant.read_only) {
          Error(at, "a writable grant is not executable with \"exec\": true",
                "the void could run code it wrote there; if that is meant, say \"exec\": "
                "\"writable\"");
          ok = false;
        }
      } else if (it->is_string() && it->get<std::string>() == "writable") {
        grant.exec = true;
        if (grant.read_only) {
          Error(at, "\"exec\": \"writable\" is for writable grants",
                "a read-only grant says \"exec\": true");
          ok = false;
        }
      } else {
        Error(at, absl::StrCat("\"exec\" must be true, false or \"writable\", not ", it->dump()));
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return grant;
  }

  std::optional<NetworkPolicy> ParseNetwork(const json& value, const std::string& pointer) {
    NetworkPolicy policy;
    policy.pointer = pointer;
    if (!Expect(value, pointer, json::value_t::object, "\"network\"",
                "write {\"outbound\": [{\"cidr\": \"10.0.0.0/8\", \"ports\": [5432]}]}")) {
      return std::nullopt;
    }
    CheckKeys(value, pointer, kNetworkKeys, "network key");
    if (auto it = value.find("mode"); it != value.end()) {
      if (auto mode = NonEmptyString(*it, pointer + "/mode", "\"mode\"")) {
        if (*mode == "audit") {
          policy.mode = NetworkMode::kAudit;
        } else if (*mode != "enforce") {
          Error(pointer + "/mode", absl::StrCat("unknown network mode \"", *mode, "\""),
                SuggestionHint(*mode, kModes));
        }
      }
    }
    if (auto it = value.find("outbound");
        it != value.end() &&
        Expect(*it, pointer + "/outbound", json::value_t::array, "\"outbound\"")) {
      for (size_t i = 0; i < it->size(); ++i) {
        const std::string rule_pointer = absl::StrCat(pointer, "/outbound/", i);
        if (auto rule = ParseOutbound((*it)[i], rule_pointer)) {
          policy.outbound.push_back(*std::move(rule));
        }
      }
    }
    if (auto it = value.find("inbound");
        it != value.end() &&
        Expect(*it, pointer + "/inbound", json::value_t::array, "\"inbound\"")) {
      for (size_t i = 0; i < it->size(); ++i) {
        const std::string rule_pointer = absl::StrCat(pointer, "/inbound/", i);
        if (auto rule = ParseInbound((*it)[i], rule_pointer)) policy.inbound.push_back(*rule);
      }
    }
    return policy;
  }

  std::optional<Protocol> ParseProtocol(const json& object, const std::string& pointer,
                                        Protocol fallback) {
    auto it = object.find("protocol");
    if (it == object.end()) return fallback;
    auto text = NonEmptyString(*it, pointer + "/protocol", "\"protocol\"");
    if (!text) return std::nullopt;
    if (*text == "tcp") return Protocol::kTcp;
    if (*text == "udp") return Protocol::kUdp;
    if (*text == "any") return Protocol::kAny;
    Error(pointer + "/protocol", absl::StrCat("unknown protocol \"", *text, "\""),
          SuggestionHint(*text, kProtocols));
    return std::nullopt;
  }

  // A rule object, or one of the prototype's shorthands: "InternetV4" (0.0.0.0/0),
  // "InternetV6" (::/0), {"PrivateV4": "10.0.0.0/8"}, {"PrivateV6": "fd00::/8"}.
  std::optional<OutboundRule> ParseOutbound(const json& value, const std::string& pointer) {
    OutboundRule rule;
    rule.pointer = pointer;
    if (!value.is_object() || (value.size() == 1 && !value.contains("cidr"))) {
      auto tagged =
          ReadTagged(value, pointer, "outbound rule shorthand", kUnitNetworks, kPayloadNetworks);
      if (!tagged) return std::nullopt;
      std::string cidr_text = tagged->tag == "InternetV4"   ? "0.0.0.0/0"
                              : tagged->tag == "InternetV6" ? "::/0"
                                                            : "";
      std::string cidr_pointer = pointer;
      if (cidr_text.empty()) {
        auto text = NonEmptyString(*tagged->payload, tagged->payload_pointer, tagged->tag);
        if (!text) return std::nullopt;
        cidr_text = *text;
        cidr_pointer = tagged->payload_pointer;
      }
      auto cidr = ParseCidr(cidr_text);
      if (!cidr.ok()) {
        Error(cidr_pointer, std::string(cidr.status().message()));
        return std::nullopt;
      }
      const bool wants_v6 = tagged->tag == "InternetV6" || tagged->tag == "PrivateV6";
      if (cidr->ipv6 != wants_v6) {
        Error(cidr_pointer, absl::StrCat(tagged->tag, " needs an IPv", wants_v6 ? "6" : "4",
                                         " network, not \"", cidr_text, "\""));
        return std::nullopt;
      }
      rule.cidr = *std::move(cidr);
      return rule;
    }
    CheckKeys(value, pointer, kOutboundKeys, "outbound rule key");
    bool ok = true;
    if (auto it = value.find("cidr"); it == value.end()) {
      Error(pointer, "outbound rule needs \"cidr\"", "e.g. \"cidr\": \"10.0.0.0/8\"");
      ok = false;
    } else if (auto text = NonEmptyString(*it, pointer + "/cidr", "\"cidr\"")) {
      auto cidr = ParseCidr(*text);
      if (cidr.ok()) {
        rule.cidr = *std::move(cidr);
      } else {
        Error(pointer + "/cidr", std::string(cidr.status().message()));
        ok = false;
      }
    } else {
      ok = false;
    }
    if (auto it = value.find("ports");
        it != value.end() && Expect(*it, pointer + "/ports", json::value_t::array, "\"ports\"",
                                    "a list of ports and ranges, e.g. [443, \"8000-8099\"]")) {
      if (it->empty()) {
        Error(pointer + "/ports", "\"ports\" is empty",
              "leave \"ports\" out to allow every port, or list some");
        ok = false;
      }
      for (size_t i = 0; i < it->size(); ++i) {
        const std::string port_pointer = absl::StrCat(pointer, "/ports/", i);
        const json& port = (*it)[i];
        if (port.is_string()) {
          auto range = ParsePortRange(port.get<std::string>());
          if (range.ok()) {
            rule.ports.push_back(*range);
          } else {
            Error(port_pointer, std::string(range.status().message()));
            ok = false;
          }
        } else if (auto number = Port(port, port_pointer)) {
          rule.ports.push_back({*number, *number});
        } else {
          ok = false;
        }
      }
    }
    auto protocol = ParseProtocol(value, pointer, Protocol::kAny);
    if (!protocol || !ok) return std::nullopt;
    rule.protocol = *protocol;
    return rule;
  }

  std::optional<InboundRule> ParseInbound(const json& value, const std::string& pointer) {
    InboundRule rule;
    rule.pointer = pointer;
    if (!Expect(value, pointer, json::value_t::object, "an inbound rule",
                "write {\"port\": 8080, \"protocol\": \"tcp\"}")) {
      return std::nullopt;
    }
    CheckKeys(value, pointer, kInboundKeys, "inbound rule key");
    auto it = value.find("port");
    if (it == value.end()) {
      Error(pointer, "inbound rule needs \"port\"");
      return std::nullopt;
    }
    auto port = Port(*it, pointer + "/port");
    auto protocol = ParseProtocol(value, pointer, Protocol::kTcp);
    if (!port || !protocol) return std::nullopt;
    rule.port = *port;
    rule.protocol = *protocol;
    return rule;
  }

  // A limit written as a number or a string with units; returns the text for the parsers.
  std::optional<std::string> LimitText(const json& value, const std::string& pointer,
                                       absl::string_view name) {
    if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
    if (value.is_string()) return value.get<std::string>();
    Error(pointer, absl::StrCat("limit \"", name, "\" must be a string or a positive integer, not ",
                                TypeName(value)));
    return std::nullopt;
  }

  std::optional<uint32_t> Count(const json& value, const std::string& pointer,
                                absl::string_view name, uint64_t max) {
    if (!value.is_number_unsigned() || value.get<uint64_t>() < 1 || value.get<uint64_t>() > max) {
      Error(pointer, absl::StrCat("limit \"", name, "\" must be an integer from 1 to ", max,
                                  ", not ", value.dump()));
      return std::nullopt;
    }
    return static_cast<uint32_t>(value.get<uint64_t>());
  }

  void ParseLimits(const json& value, Limits& limits) {
    const std::string& pointer = limits.pointer;
    if (!Expect(value, pointer, json::value_t::object, "\"limits\"")) return;
    CheckKeys(value, pointer, kLimitKeys, "limit");
    for (const auto& [key, item] : value.items()) {
      const std::string item_pointer = PointerAppend(pointer, key);
      if (key == "pids") {
        limits.pids = Count(item, item_pointer, key, 1u << 22);
      } else if (key == "concurrency") {
        limits.concurrency = Count(item, item_pointer, key, 100000);
      } else if (key == "memory" || key == "cpu" || key == "timeout") {
        auto text = LimitText(item, item_pointer, key);
        if (!text) continue;
        if (key == "memory") {
          auto size = ParseSize(*text);
          if (size.ok()) {
            limits.memory_bytes = *size;
          } else {
            Error(item_pointer, std::string(size.status().message()));
          }
        } else if (key == "cpu") {
          auto cpu = ParseCpuPercent(item.is_string() ? *text : *text + "%");
          if (cpu.ok()) {
            limits.cpu_percent = *cpu;
          } else {
            Error(item_pointer, std::string(cpu.status().message()));
          }
        } else {
          auto duration = ParseDuration(item.is_string() ? *text : *text + "s");
          if (duration.ok()) {
            limits.timeout = *duration;
          } else {
            Error(item_pointer, std::string(duration.status().message()));
          }
        }
      }
    }
  }

  std::vector<Diagnostic>& diagnostics_;
};

}  // namespace

Spec ParseSpec(const json& document, std::vector<Diagnostic>& diagnostics) {
  return Parser(diagnostics).ParseDocument(document);
}

}  // namespace shim::spec
