#include "spec/validate.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/host_path.h"
#include "common/overloaded.h"
#include "absl/strings/str_split.h"
#include "spec/suggest.h"

namespace shim::spec {
namespace {

struct Endpoint {
  std::string entrypoint;
  std::string pointer;
  bool is_trigger = false;
};

struct ChannelEnds {
  std::vector<Endpoint> readers;  // Rx args and triggers
  std::vector<Endpoint> writers;  // Tx args
};

class Validator {
 public:
  Validator(const Spec& spec, std::vector<Diagnostic>& diagnostics)
      : spec_(spec), diagnostics_(diagnostics) {}

  void Run() {
    CollectChannels();
    CheckPipes();
    CheckFileSockets();
    std::set<std::string> listeners;
    for (const Entrypoint& entrypoint : spec_.entrypoints) {
      CheckTriggerArgs(entrypoint);
      CheckEnvironment(entrypoint);
      CheckLimits(entrypoint);
      CheckListeners(entrypoint, listeners);
    }
    CheckReachability();
  }

 private:
  void Add(Severity severity, std::string pointer, std::string message, std::string hint = "") {
    diagnostics_.push_back({severity, std::move(pointer), std::move(message), std::move(hint)});
  }
  void Error(std::string pointer, std::string message, std::string hint = "") {
    Add(Severity::kError, std::move(pointer), std::move(message), std::move(hint));
  }

  void CollectChannels() {
    for (const Entrypoint& entrypoint : spec_.entrypoints) {
      std::visit(Overloaded{[](const TriggerStartup&) {}, [](const TriggerTcpListener&) {},
                            [](const TriggerUnixListener&) {},
                            [&](const TriggerPipe& t) {
                              pipes_[t.name].readers.push_back(
                                  {entrypoint.name, entrypoint.trigger.pointer, true});
                            },
                            [&](const TriggerFileSocket& t) {
                              sockets_[t.name].readers.push_back(
                                  {entrypoint.name, entrypoint.trigger.pointer, true});
                            }},
                 entrypoint.trigger.kind);
      // A channel end named by an arg or a stdio stream (both kinds hold ArgPipe and
      // ArgFileSocket).
      auto add = [&](const auto& kind, const std::string& pointer) {
        auto record = [&](std::map<std::string, ChannelEnds>& channels, Direction direction,
                          const std::string& name) {
          ChannelEnds& ends = channels[name];
          (direction == Direction::kRx ? ends.readers : ends.writers)
              .push_back({entrypoint.name, pointer, false});
        };
        if (const auto* pipe = std::get_if<ArgPipe>(&kind)) {
          record(pipes_, pipe->direction, pipe->name);
        } else if (const auto* socket = std::get_if<ArgFileSocket>(&kind)) {
          record(sockets_, socket->direction, socket->name);
        }
      };
      for (const Arg& arg : entrypoint.args) add(arg.kind, arg.pointer);
      for (const StdioStream& stream : entrypoint.stdio) add(stream.kind, stream.pointer);
    }
  }

  // A lone end is often a typo of another channel's name: suggest the closest channel that
  // has the missing end.
  static std::string TypoHint(const std::map<std::string, ChannelEnds>& channels,
                              const std::string& name, bool want_writers) {
    std::vector<std::string> names;
    for (const auto& [other, ends] : channels) {
      if (other != name && !(want_writers ? ends.writers : ends.readers).empty()) {
        names.push_back(other);
      }
    }
    std::string match = ClosestMatch(name, names);
    return match.empty() ? "" : absl::StrCat("did you mean \"", match, "\"? ");
  }

  // Readers: a pipe and a file socket each have exactly one (an Rx arg or a trigger).
  void CheckReaders(const std::string& kind, const std::string& name, const ChannelEnds& ends,
                    const std::map<std::string, ChannelEnds>& channels) {
    if (ends.readers.empty()) {
      Error(ends.writers.front().pointer,
            absl::StrCat(kind, " \"", name, "\" has a writer but no reader"),
            absl::StrCat(TypoHint(channels, name, false), "give one entrypoint {\"", kind,
                         "\": {\"Rx\": \"", name, "\"}} or \"trigger\": {\"", kind, "\": \"",
                         name, "\"}"));
      return;
    }
    for (size_t i = 1; i < ends.readers.size(); ++i) {
      const Endpoint& first = ends.readers.front();
      const Endpoint& extra = ends.readers[i];
      const bool both_triggers = first.is_trigger && extra.is_trigger;
      Error(extra.pointer,
            both_triggers
                ? absl::StrCat("two triggers on ", kind, " \"", name, "\" (also at ",
                               first.pointer, ")")
                : absl::StrCat(kind, " \"", name, "\" already has a reader at ", first.pointer),
            absl::StrCat("a ", kind, " has exactly one reader; use one ", kind,
                         " per receiving entrypoint"));
    }
    if (ends.writers.empty()) {
      Error(ends.readers.front().pointer,
            absl::StrCat(kind, " \"", name, "\" has a reader but no writer"),
            absl::StrCat(TypoHint(channels, name, true), "give the sending entrypoint {\"", kind,
                         "\": {\"Tx\": \"", name, "\"}} in its args"));
    }
  }

  void CheckPipes() {
    for (const auto& [name, ends] : pipes_) {
      CheckReaders("Pipe", name, ends, pipes_);
      for (size_t i = 1; i < ends.writers.size(); ++i) {
        Error(ends.writers[i].pointer,
              absl::StrCat("Pipe \"", name, "\" already has a writer at ",
                           ends.writers.front().pointer),
              "a pipe has exactly one writer; give each sender its own pipe, or use a "
              "FileSocket, which takes many writers");
      }
    }
  }

  void CheckFileSockets() {
    for (const auto& [name, ends] : sockets_) CheckReaders("FileSocket", name, ends, sockets_);
  }

  void CheckTriggerArgs(const Entrypoint& entrypoint) {
    const bool startup = std::holds_alternative<TriggerStartup>(entrypoint.trigger.kind);
    const bool pipe = std::holds_alternative<TriggerPipe>(entrypoint.trigger.kind);
    bool uses_trigger = false;
    for (const StdioStream& stream : entrypoint.stdio) {
      if (!std::holds_alternative<StdioTrigger>(stream.kind)) continue;
      uses_trigger = true;
      if (startup) {
        Error(stream.pointer, "\"Trigger\" as stdio of an entrypoint started at startup",
              "a stream gets the trigger's connection, fd or message; add a \"trigger\"");
      }
    }
    for (const Arg& arg : entrypoint.args) {
      if (std::holds_alternative<ArgTrigger>(arg.kind)) {
        uses_trigger = true;
        if (startup) {
          Error(arg.pointer, "\"Trigger\" arg on an entrypoint started at startup",
                "\"Trigger\" carries what a Pipe or FileSocket trigger delivered; add a "
                "\"trigger\" or remove the arg");
        }
      } else if (std::holds_alternative<ArgTriggerFd>(arg.kind)) {
        uses_trigger = true;
        if (!pipe) {
          Error(arg.pointer, "\"TriggerFd\" arg needs a Pipe trigger",
                "\"TriggerFd\" passes a pipe message as a read-only memfd; FileSocket "
                "triggers pass their fds with \"Trigger\"");
        }
      }
    }
    if (!startup && !uses_trigger) {
      Add(Severity::kWarning, entrypoint.trigger.pointer,
          "triggered entrypoint does not receive what triggered it",
          "add \"Trigger\" to its args (or its \"stdio\") to receive the message or the fds");
    }
  }

  static bool IsNormalisedAbsolute(const std::string& path) {
    if (!absl::StartsWith(path, "/") || path == "/") return false;
    if (absl::EndsWith(path, "/")) return false;
    for (absl::string_view part : absl::StrSplit(absl::string_view(path).substr(1), '/')) {
      if (part.empty() || part == "." || part == "..") return false;
    }
    return true;
  }

  void CheckEnvironment(const Entrypoint& entrypoint) {
    std::vector<std::pair<std::string, std::string>> mounted;  // environment_path, pointer
    std::map<size_t, std::string> seen;                       // variant index -> first pointer
    for (const Environment& item : entrypoint.environment) {
      const size_t index = item.kind.index();
      const auto* grant = std::get_if<EnvFilesystem>(&item.kind);
      const auto* tmpfs = std::get_if<EnvTmpfs>(&item.kind);
      if (grant == nullptr && tmpfs == nullptr) {
        auto [it, inserted] = seen.emplace(index, item.pointer);
        if (!inserted) {
          const bool named = std::holds_alternative<EnvHostname>(item.kind) ||
                             std::holds_alternative<EnvDomainName>(item.kind);
          Add(named ? Severity::kError : Severity::kWarning, item.pointer,
              absl::StrCat("repeats the environment item at ", it->second),
              "list each environment item once");
        }
        continue;
      }
      const std::string pointer =
          item.pointer + (grant ? "/Filesystem" : "/Tmpfs") + "/environment_path";
      const std::string& path = grant ? grant->environment_path : tmpfs->environment_path;
      if (!IsNormalisedAbsolute(path)) {
        Error(pointer,
              absl::StrCat("environment_path \"", path,
                           "\" must be an absolute path without \".\", \"..\", \"//\" or a "
                           "trailing \"/\", and not \"/\""),
              "e.g. \"/data\"");
        continue;
      }
      for (const char* reserved : {"/.shim", "/dev", "/proc"}) {
        if (IsSameOrBeneath(path, reserved)) {
          Error(pointer, absl::StrCat("environment_path \"", path, "\" is inside ", reserved,
                                      ", which the void manages itself"),
                "mount the grant somewhere else");
        }
      }
      for (const auto& [other, other_pointer] : mounted) {
        if (IsSameOrBeneath(path, other) || IsSameOrBeneath(other, path)) {
          Error(pointer,
                absl::StrCat("environment_path \"", path, "\" overlaps \"", other, "\" at ",
                             other_pointer),
                "grants must not be nested or repeated; grant disjoint folders");
        }
      }
      mounted.emplace_back(path, pointer);
    }
    if (entrypoint.cwd && *entrypoint.cwd != "/") {
      const std::string& cwd = *entrypoint.cwd;
      const bool granted = std::any_of(mounted.begin(), mounted.end(), [&](const auto& m) {
        return IsSameOrBeneath(cwd, m.first);
      });
      if (!IsNormalisedAbsolute(cwd) || !granted) {
        Error(entrypoint.pointer + "/cwd",
              absl::StrCat("\"cwd\" \"", cwd,
                           "\" is not \"/\" or a normalised path inside a Filesystem or Tmpfs "
                           "grant of this entrypoint"),
              "the void holds nothing else; grant the folder, or leave \"cwd\" out for /");
      }
    }
  }

  void CheckLimits(const Entrypoint& entrypoint) {
    if (entrypoint.limits.concurrency &&
        std::holds_alternative<TriggerStartup>(entrypoint.trigger.kind)) {
      Error(entrypoint.limits.pointer + "/concurrency",
            "\"concurrency\" limits triggered entrypoints; this one starts once at startup",
            "remove it, or add a \"trigger\"");
    }
  }

  void CheckListeners(const Entrypoint& entrypoint, std::set<std::string>& listeners) {
    auto check = [&](const SocketAddress& address, const std::string& pointer) {
      const std::string key =
          absl::StrCat(address.ipv6, ":", std::string(address.address.begin(), address.address.end()),
                       ":", address.port);
      if (!listeners.insert(key).second) {
        Error(pointer, absl::StrCat("TcpListener ", address.text, " is declared twice"),
              "each listening address can be bound once");
      }
    };
    if (const auto* trigger = std::get_if<TriggerTcpListener>(&entrypoint.trigger.kind)) {
      check(trigger->address, entrypoint.trigger.pointer);
    }
    if (const auto* unix_listener = std::get_if<TriggerUnixListener>(&entrypoint.trigger.kind)) {
      if (!listeners.insert(absl::StrCat("unix:", unix_listener->path)).second) {
        Error(entrypoint.trigger.pointer,
              absl::StrCat("UnixListener ", unix_listener->path, " is declared twice"),
              "each socket path can be bound once");
      }
    }
    for (const Arg& arg : entrypoint.args) {
      if (const auto* listener = std::get_if<ArgTcpListener>(&arg.kind)) {
        check(listener->address, arg.pointer);
      }
    }
  }

  // A triggered entrypoint starts only when somebody can write to its channel; writers that are
  // themselves never started make a cycle (or a chain) that can never start.
  void CheckReachability() {
    std::set<std::string> started;
    for (const Entrypoint& entrypoint : spec_.entrypoints) {
      if (std::holds_alternative<TriggerStartup>(entrypoint.trigger.kind)) {
        started.insert(entrypoint.name);
      }
    }
    for (bool grew = true; grew;) {
      grew = false;
      for (const Entrypoint& entrypoint : spec_.entrypoints) {
        if (started.count(entrypoint.name) != 0) continue;
        const ChannelEnds* ends = TriggerChannel(entrypoint);
        if (ends == nullptr) continue;
        for (const Endpoint& writer : ends->writers) {
          if (started.count(writer.entrypoint) != 0) {
            started.insert(entrypoint.name);
            grew = true;
            break;
          }
        }
      }
    }
    for (const Entrypoint& entrypoint : spec_.entrypoints) {
      const ChannelEnds* ends = TriggerChannel(entrypoint);
      if (started.count(entrypoint.name) != 0 || ends == nullptr || ends->writers.empty()) {
        continue;
      }
      Error(entrypoint.trigger.pointer,
            "entrypoint can never start: every writer of its channel is itself a triggered "
            "entrypoint that can never start",
            "at least one entrypoint in the chain must start at startup");
    }
  }

  const ChannelEnds* TriggerChannel(const Entrypoint& entrypoint) const {
    if (const auto* pipe = std::get_if<TriggerPipe>(&entrypoint.trigger.kind)) {
      return &pipes_.at(pipe->name);
    }
    if (const auto* socket = std::get_if<TriggerFileSocket>(&entrypoint.trigger.kind)) {
      return &sockets_.at(socket->name);
    }
    return nullptr;
  }

  const Spec& spec_;
  std::vector<Diagnostic>& diagnostics_;
  std::map<std::string, ChannelEnds> pipes_;
  std::map<std::string, ChannelEnds> sockets_;
};

}  // namespace

void ValidateSpec(const Spec& spec, std::vector<Diagnostic>& diagnostics) {
  Validator(spec, diagnostics).Run();
}

}  // namespace shim::spec
