// One test per validation rule, on specs written inline, checking the exact JSON pointer.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "spec/load.h"

namespace shim::spec {
namespace {

using ::testing::HasSubstr;

LoadResult Load(const std::string& text) {
  LoadOptions options;
  options.check_host = false;
  return LoadSpecText(text, "/specs/test.json", options);
}

// The diagnostics as "severity pointer: message | hint" lines, for readable failures.
std::string Describe(const LoadResult& result) {
  std::string text;
  for (const Diagnostic& d : result.diagnostics) {
    text += FormatDiagnostic("t", d) + "\n";
  }
  return text;
}

// Expects an error at exactly `pointer` whose message or hint contains `words`.
void ExpectError(const std::string& spec, const std::string& pointer, const std::string& words) {
  LoadResult result = Load(spec);
  EXPECT_FALSE(result.spec.has_value());
  bool found = false;
  for (const Diagnostic& d : result.diagnostics) {
    found = found || (d.severity == Severity::kError && d.pointer == pointer &&
                      (d.message + " " + d.hint).find(words) != std::string::npos);
  }
  EXPECT_TRUE(found) << "want error at " << pointer << " with \"" << words << "\"; got:\n"
                     << Describe(result);
}

constexpr const char* kBinary = R"("binary": "app", )";

std::string Spec(const std::string& entrypoints) {
  return std::string("{") + kBinary + R"("entrypoints": {)" + entrypoints + "}}";
}

TEST(Rules, AMinimalSpecLoadsWithDefaults) {
  LoadResult result = Load(Spec(R"("main": {})"));
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);
  const Entrypoint& main = result.spec->entrypoints.at(0);
  EXPECT_EQ(main.name, "main");
  EXPECT_EQ(main.binary_path, "/specs/app");  // relative to the spec's folder
  ASSERT_EQ(main.args.size(), 1u);            // the prototype's default: [BinaryName]
  EXPECT_TRUE(std::holds_alternative<ArgBinaryName>(main.args[0].kind));
  EXPECT_TRUE(std::holds_alternative<TriggerStartup>(main.trigger.kind));
  EXPECT_FALSE(main.network.has_value());
}

TEST(Rules, EntrypointsKeepFileOrder) {
  LoadResult result = Load(Spec(R"("zeta": {}, "alpha": {}, "mid": {})"));
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);
  EXPECT_EQ(result.spec->entrypoints[0].name, "zeta");
  EXPECT_EQ(result.spec->entrypoints[2].name, "mid");
}

TEST(Rules, UnknownKeysGetSuggestions) {
  ExpectError(Spec(R"("a": {"trigerr": "Startup"})"), "/entrypoints/a/trigerr",
              "did you mean \"trigger\"");
  ExpectError(R"({"binary": "x", "entrypionts": {}})", "/entrypionts",
              "did you mean \"entrypoints\"");
  ExpectError(Spec(R"("a": {"args": ["Trailling"]})"), "/entrypoints/a/args/0",
              "did you mean \"Trailing\"");
  ExpectError(Spec(R"("a": {"environment": ["Stdot"]})"), "/entrypoints/a/environment/0",
              "did you mean \"Stdout\"");
}

TEST(Rules, WrongTypesNameBothTypes) {
  ExpectError(Spec(R"("a": {"environment": {"Stdout": 1}})"), "/entrypoints/a/environment",
              "must be an array, not an object");
  ExpectError(Spec(R"("a": {"limits": {"pids": "many"}})"), "/entrypoints/a/limits/pids",
              "integer from 1");
  ExpectError(Spec(R"("a": 7)"), "/entrypoints/a", "must be an object, not an integer");
}

TEST(Rules, DuplicateKeysAreReportedWhereTheyAre) {
  ExpectError(Spec(R"("a": {"args": [], "args": []})"), "/entrypoints/a/args",
              "duplicate key \"args\"");
}

TEST(Rules, EveryProblemIsReportedAtOnce) {
  LoadResult result =
      Load(Spec(R"("a": {"trigerr": 1, "limits": {"memory": "lots", "timeout": "never"}},
                   "b": {"args": ["Trigger"]})"));
  EXPECT_GE(result.diagnostics.size(), 4u) << Describe(result);
}

TEST(Rules, PipeNeedsExactlyOneReaderAndOneWriter) {
  ExpectError(Spec(R"("a": {"args": [{"Pipe": {"Rx": "p"}}]})"), "/entrypoints/a/args/0",
              "has a reader but no writer");
  ExpectError(Spec(R"("a": {"args": [{"Pipe": {"Tx": "p"}}]})"), "/entrypoints/a/args/0",
              "has a writer but no reader");
  ExpectError(Spec(R"("a": {"args": [{"Pipe": {"Tx": "p"}}]},
                     "b": {"args": [{"Pipe": {"Rx": "p"}}]},
                     "c": {"args": [{"Pipe": {"Rx": "p"}}]})"),
              "/entrypoints/c/args/0", "already has a reader at /entrypoints/b/args/0");
}

TEST(Rules, ALoneChannelEndSuggestsTheChannelItProbablyMeant) {
  ExpectError(Spec(R"("a": {"args": [{"Pipe": {"Tx": "jobs"}}]},
                     "w": {"trigger": {"Pipe": "job"}, "args": ["Trigger"]})"),
              "/entrypoints/w/trigger", "did you mean \"jobs\"?");
}

TEST(Rules, FileSocketTakesManyWritersButOneReader) {
  LoadResult many_writers = Load(Spec(R"("a": {"args": [{"FileSocket": {"Tx": "s"}}]},
                                          "b": {"args": [{"FileSocket": {"Tx": "s"}}]},
                                          "h": {"trigger": {"FileSocket": "s"}, "args": ["Trigger"]})"));
  EXPECT_TRUE(many_writers.spec.has_value()) << Describe(many_writers);
  ExpectError(Spec(R"("h": {"trigger": {"FileSocket": "s"}, "args": ["Trigger"]})"),
              "/entrypoints/h/trigger", "has a reader but no writer");
}

TEST(Rules, TwoTriggersOnOneChannel) {
  ExpectError(Spec(R"("a": {"args": [{"FileSocket": {"Tx": "s"}}]},
                     "h1": {"trigger": {"FileSocket": "s"}, "args": ["Trigger"]},
                     "h2": {"trigger": {"FileSocket": "s"}, "args": ["Trigger"]})"),
              "/entrypoints/h2/trigger", "two triggers on FileSocket \"s\"");
}

TEST(Rules, TriggerArgNeedsATrigger) {
  ExpectError(Spec(R"("a": {"args": ["PipeTrigger"]})"), "/entrypoints/a/args/0",
              "started at startup");
  ExpectError(Spec(R"("a": {"args": [{"FileSocket": {"Tx": "s"}}]},
                     "h": {"trigger": {"FileSocket": "s"}, "args": ["TriggerFd"]})"),
              "/entrypoints/h/args/0", "needs a Pipe trigger");
}

TEST(Rules, TriggeredEntrypointWithoutTriggerArgIsAWarning) {
  LoadResult result = Load(Spec(R"("a": {"args": [{"Pipe": {"Tx": "p"}}]},
                                    "h": {"trigger": {"Pipe": "p"}})"));
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_EQ(result.diagnostics[0].severity, Severity::kWarning);
  EXPECT_EQ(result.diagnostics[0].pointer, "/entrypoints/h/trigger");
}

TEST(Rules, CyclesThatCanNeverStart) {
  ExpectError(Spec(R"("a": {"trigger": {"Pipe": "p"}, "args": ["Trigger", {"Pipe": {"Tx": "q"}}]},
                     "b": {"trigger": {"Pipe": "q"}, "args": ["Trigger", {"Pipe": {"Tx": "p"}}]})"),
              "/entrypoints/b/trigger", "can never start");
  LoadResult chain = Load(Spec(R"("s": {"args": [{"Pipe": {"Tx": "p"}}]},
                                  "a": {"trigger": {"Pipe": "p"}, "args": ["Trigger", {"Pipe": {"Tx": "q"}}]},
                                  "b": {"trigger": {"Pipe": "q"}, "args": ["Trigger"]})"));
  EXPECT_TRUE(chain.spec.has_value()) << Describe(chain);
}

TEST(Rules, CidrsAndPortsAreChecked) {
  ExpectError(Spec(R"("a": {"network": {"outbound": [{"cidr": "300.0.0.0/8"}]}})"),
              "/entrypoints/a/network/outbound/0/cidr", "invalid CIDR");
  ExpectError(Spec(R"("a": {"network": {"outbound": [{"cidr": "10.0.0.0/8", "ports": [70000]}]}})"),
              "/entrypoints/a/network/outbound/0/ports/0", "out of range");
  ExpectError(Spec(R"("a": {"network": {"outbound": [{"cidr": "10.0.0.0/8", "ports": []}]}})"),
              "/entrypoints/a/network/outbound/0/ports", "is empty");
  ExpectError(Spec(R"("a": {"network": {"inbound": [{"port": 0}]}})"),
              "/entrypoints/a/network/inbound/0/port", "out of range");
  ExpectError(Spec(R"("a": {"args": [{"TcpListener": {"port": -1}}]})"),
              "/entrypoints/a/args/0/TcpListener/port", "out of range");
}

TEST(Rules, NetworkShorthandsOfThePrototype) {
  LoadResult result = Load(Spec(
      R"("a": {"network": {"outbound": ["InternetV4", "InternetV6", {"PrivateV4": "10.0.0.0/8"},
                                         {"PrivateV6": "fd00::/8"}]}})"));
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);
  const NetworkPolicy& policy = *result.spec->entrypoints[0].network;
  ASSERT_EQ(policy.outbound.size(), 4u);
  EXPECT_EQ(policy.outbound[0].cidr.prefix_len, 0);
  EXPECT_FALSE(policy.outbound[0].cidr.ipv6);
  EXPECT_TRUE(policy.outbound[1].cidr.ipv6);
  EXPECT_EQ(policy.outbound[2].cidr.prefix_len, 8);
  EXPECT_EQ(policy.outbound[2].protocol, Protocol::kAny);
  EXPECT_TRUE(policy.outbound[2].ports.empty());
}

TEST(Rules, NetworkRulesParseIntoTheModel) {
  LoadResult result = Load(Spec(R"("a": {"network": {"mode": "audit",
      "outbound": [{"cidr": "10.1.0.0/16", "ports": [5432, "8000-8099"], "protocol": "tcp"}],
      "inbound": [{"port": 8080, "protocol": "udp"}]}})"));
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);
  const NetworkPolicy& policy = *result.spec->entrypoints[0].network;
  EXPECT_EQ(policy.mode, NetworkMode::kAudit);
  ASSERT_EQ(policy.outbound[0].ports.size(), 2u);
  EXPECT_EQ(policy.outbound[0].ports[1].first, 8000);
  EXPECT_EQ(policy.outbound[0].ports[1].last, 8099);
  EXPECT_EQ(policy.outbound[0].protocol, Protocol::kTcp);
  EXPECT_EQ(policy.inbound[0].port, 8080);
  EXPECT_EQ(policy.inbound[0].protocol, Protocol::kUdp);
}

TEST(Rules, EnvironmentPathsMustBeAbsoluteNormalisedAndDisjoint) {
  auto grant = [](const std::string& env_path) {
    return std::string(R"({"Filesystem": {"host_path": "/tmp", "environment_path": ")") + env_path +
           R"("}})";
  };
  const std::string pointer = "/entrypoints/a/environment/0/Filesystem/environment_path";
  for (const char* bad : {"data", "/", "/data/", "/a//b", "/a/./b", "/a/../b", ""}) {
    ExpectError(Spec(R"("a": {"environment": [)" + grant(bad) + "]}"), pointer,
                std::string(bad).empty() ? "must not be empty" : "absolute path");
  }
  ExpectError(Spec(R"("a": {"environment": [)" + grant("/data") + "," + grant("/data") + "]}"),
              "/entrypoints/a/environment/1/Filesystem/environment_path", "overlaps");
  ExpectError(Spec(R"("a": {"environment": [)" + grant("/a/b") + "," + grant("/a") + "]}"),
              "/entrypoints/a/environment/1/Filesystem/environment_path", "overlaps");
  ExpectError(Spec(R"("a": {"environment": [)" + grant("/.shim/x") + "]}"), pointer,
              "manages itself");
  LoadResult siblings =
      Load(Spec(R"("a": {"environment": [)" + grant("/ab") + "," + grant("/a") + "]}"));
  EXPECT_TRUE(siblings.spec.has_value()) << Describe(siblings);
}

TEST(Rules, FilesystemGrantsAreReadOnlyUnlessAsked) {
  LoadResult result = Load(Spec(R"("a": {"environment": [
      {"Filesystem": {"host_path": "in", "environment_path": "/in"}},
      {"Filesystem": {"host_path": "/out", "environment_path": "/out", "read_only": false}}]})"));
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);
  const auto& env = result.spec->entrypoints[0].environment;
  const auto& in = std::get<EnvFilesystem>(env[0].kind);
  EXPECT_TRUE(in.read_only);
  EXPECT_EQ(in.host_path, "/specs/in");  // relative host paths resolve against the spec folder
  EXPECT_FALSE(std::get<EnvFilesystem>(env[1].kind).read_only);
}

TEST(Rules, UnixSocketsAreOffUnlessAsked) {
  LoadResult result = Load(Spec(R"("a": {}, "b": {"unix_sockets": true})"));
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);
  EXPECT_FALSE(result.spec->entrypoints[0].unix_sockets);
  EXPECT_TRUE(result.spec->entrypoints[1].unix_sockets);
  ExpectError(Spec(R"("a": {"unix_sockets": "yes"})"), "/entrypoints/a/unix_sockets",
              "must be a boolean");
}

TEST(Rules, LiteralArgsArePassedVerbatimAndBareWordsPointAtThem) {
  LoadResult result = Load(Spec(
      R"("a": {"args": ["BinaryName", {"Literal": "-m"}, {"Literal": "Entrypoint"}, "Trailing"]})"));
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);
  const auto& args = result.spec->entrypoints[0].args;
  ASSERT_EQ(args.size(), 4u);
  EXPECT_EQ(std::get<ArgLiteral>(args[1].kind).text, "-m");
  EXPECT_EQ(std::get<ArgLiteral>(args[2].kind).text, "Entrypoint");  // a name, taken literally
  ExpectError(Spec(R"("a": {"args": ["BinaryName", "-m"]})"), "/entrypoints/a/args/1",
              R"(write {"Literal": "-m"})");
  ExpectError(Spec(R"("a": {"args": ["Entrypiont"]})"), "/entrypoints/a/args/0",
              R"(did you mean "Entrypoint"?)");
  ExpectError(Spec(R"("a": {"args": [{"Literal": 7}]})"), "/entrypoints/a/args/0/Literal",
              "must be a string");
  ExpectError(Spec(R"("a": {"args": [{"Literal": "a\u0000b"}]})"), "/entrypoints/a/args/0/Literal",
              "NUL");
}

TEST(Rules, EnvironmentIsDefaultsThenSpecThenEntrypointThenInherited) {
  setenv("SHIM_RULES_TEST_TZ", "Europe/Paris", 1);
  unsetenv("SHIM_RULES_TEST_MISSING");
  LoadResult result = Load(R"({"binary": "app", "env": {"LANG": "de_DE.UTF-8", "A": "top"},
      "env_inherit": ["SHIM_RULES_TEST_TZ"], "entrypoints": {
      "a": {"env": {"A": "own", "B": "x=y\nz"}, "env_inherit": ["SHIM_RULES_TEST_MISSING"]},
      "b": {}}})");
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);
  EXPECT_THAT(
      result.spec->entrypoints[0].env,
      ::testing::ElementsAre("PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/", "LANG=de_DE.UTF-8",
                             "A=own", "B=x=y\nz", "SHIM_RULES_TEST_TZ=Europe/Paris"));
  EXPECT_THAT(
      result.spec->entrypoints[1].env,
      ::testing::ElementsAre("PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/", "LANG=de_DE.UTF-8",
                             "A=top", "SHIM_RULES_TEST_TZ=Europe/Paris"));
  // Nothing of the supervisor's environment leaks unless named.
  for (const std::string& entry : result.spec->entrypoints[1].env) {
    EXPECT_FALSE(absl::StartsWith(entry, "PWD=") || absl::StartsWith(entry, "SHELL=")) << entry;
  }
  ExpectError(Spec(R"("a": {"env": {"A=B": "c"}})"), "/entrypoints/a/env/A=B", "'='");
  ExpectError(Spec(R"("a": {"env": {"": "c"}})"), "/entrypoints/a/env/", "empty");
  ExpectError(Spec(R"("a": {"env": {"A": "b\u0000c"}})"), "/entrypoints/a/env/A", "NUL");
  ExpectError(Spec(R"("a": {"env": {"A": 1}})"), "/entrypoints/a/env/A", "must be a string");
  ExpectError(Spec(R"("a": {"env": ["A=b"]})"), "/entrypoints/a/env", "must be an object");
  ExpectError(Spec(R"("a": {"env_inherit": ["A=B"]})"), "/entrypoints/a/env_inherit/0", "'='");
}

TEST(Rules, ExecGrantsAreReadOnlyUnlessTheWritableOneIsSaidOnPurpose) {
  LoadResult result = Load(Spec(R"("a": {"environment": [
      {"Filesystem": {"host_path": "/usr/lib", "environment_path": "/usr/lib", "exec": true}},
      {"Filesystem": {"host_path": "/w", "environment_path": "/w", "read_only": false,
                      "exec": "writable"}},
      {"Filesystem": {"host_path": "/d", "environment_path": "/d"}}]})"));
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);
  const auto& env = result.spec->entrypoints[0].environment;
  EXPECT_TRUE(std::get<EnvFilesystem>(env[0].kind).exec);
  EXPECT_TRUE(std::get<EnvFilesystem>(env[1].kind).exec);
  EXPECT_FALSE(std::get<EnvFilesystem>(env[2].kind).exec);  // noexec unless asked
  const std::string at = "/entrypoints/a/environment/0/Filesystem/exec";
  ExpectError(Spec(R"("a": {"environment": [{"Filesystem": {"host_path": "/w",
      "environment_path": "/w", "read_only": false, "exec": true}}]})"),
              at, R"(say "exec": "writable")");
  ExpectError(Spec(R"("a": {"environment": [{"Filesystem": {"host_path": "/r",
      "environment_path": "/r", "exec": "writable"}}]})"),
              at, "is for writable grants");
  ExpectError(Spec(R"("a": {"environment": [{"Filesystem": {"host_path": "/r",
      "environment_path": "/r", "exec": "yes"}}]})"),
              at, "must be true, false");
}

TEST(Rules, LimitsParseOrPointAtTheBadValue) {
  LoadResult result = Load(Spec(R"("a": {"limits": {"memory": "64M", "pids": 16, "cpu": "50%",
                                                      "timeout": "1m30s"}})"));
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);
  const Limits& limits = result.spec->entrypoints[0].limits;
  EXPECT_EQ(limits.memory_bytes, 64u << 20);
  EXPECT_EQ(limits.pids, 16u);
  EXPECT_EQ(limits.cpu_percent, 50u);
  EXPECT_EQ(limits.timeout, absl::Seconds(90));
  ExpectError(Spec(R"("a": {"limits": {"memory": "64Q"}})"), "/entrypoints/a/limits/memory",
              "invalid size");
  ExpectError(Spec(R"("a": {"limits": {"timeout": "0s"}})"), "/entrypoints/a/limits/timeout",
              "positive duration");
  ExpectError(Spec(R"("a": {"limits": {"cpu": "0%"}})"), "/entrypoints/a/limits/cpu", "between");
  ExpectError(Spec(R"("a": {"limits": {"concurrency": 4}})"), "/entrypoints/a/limits/concurrency",
              "triggered entrypoints");
}

TEST(Rules, EntrypointNamesMustBeArgvWords) {
  ExpectError(Spec(R"("--help": {})"), "/entrypoints/--help", "not a valid argv word");
  ExpectError(Spec(R"("a b": {})"), "/entrypoints/a b", "not a valid argv word");
  ExpectError(Spec(R"("": {})"), "/entrypoints/", "not a valid argv word");
}

TEST(Rules, BinaryIsRequiredSomewhere) {
  ExpectError(R"({"entrypoints": {"a": {}}})", "/entrypoints/a", "no binary");
  LoadOptions options;
  options.check_host = false;
  options.binary_override = "/bin/true";
  LoadResult result = LoadSpecText(R"({"entrypoints": {"a": {}}})", "/specs/s.json", options);
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);
  EXPECT_EQ(result.spec->entrypoints[0].binary_path, "/bin/true");
}

TEST(Rules, BinaryMustExistAndBeExecutable) {
  LoadResult missing = LoadSpecText(
      R"({"binary": "/nonexistent/x", "entrypoints": {"a": {}, "b": {}}})", "/specs/s.json");
  ASSERT_EQ(missing.diagnostics.size(), 1u) << "reported once, not per entrypoint";
  EXPECT_EQ(missing.diagnostics[0].pointer, "/binary");
  LoadResult not_executable =
      LoadSpecText(R"({"entrypoints": {"a": {"binary": "/etc/passwd"}}})", "/specs/s.json");
  ASSERT_FALSE(not_executable.spec.has_value());
  EXPECT_THAT(not_executable.diagnostics.at(0).message, HasSubstr("not executable"));
  EXPECT_EQ(not_executable.diagnostics.at(0).pointer, "/entrypoints/a/binary");
  // An absolute path's problem gets no hint about relative paths.
  EXPECT_EQ(not_executable.diagnostics.at(0).hint, "");
  // A script passes for executable but cannot run in a void (its interpreter is not there):
  // validate says so, as run would, with the way to run it.
  char script[] = "/tmp/shim-script-XXXXXX";
  const int fd = mkstemp(script);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "#!/bin/sh\necho\n", 15), 15);
  close(fd);
  chmod(script, 0755);
  LoadResult scripted = LoadSpecText(
      std::string(R"({"entrypoints": {"a": {"binary": ")") + script + R"("}}})", "/specs/s.json");
  ASSERT_FALSE(scripted.spec.has_value());
  EXPECT_THAT(scripted.diagnostics.at(0).message, HasSubstr("is a script (#!), not an ELF binary"));
  EXPECT_THAT(scripted.diagnostics.at(0).hint, HasSubstr("make its interpreter the binary"));
  unlink(script);
}

TEST(Rules, StdioMapsStreamsAndFoldsTheOlderEnvironmentItems) {
  LoadResult result = Load(Spec(R"("w": {"trigger": {"TcpListener": {"port": 8080}},
      "stdio": {"stdin": "Trigger", "stdout": "Trigger"}, "environment": ["Stderr"]},
      "f": {"stdio": {"stdin": {"File": "in.txt"}, "stdout": "Inherit"}})"));
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);
  const Entrypoint& w = result.spec->entrypoints[0];
  EXPECT_TRUE(std::holds_alternative<StdioTrigger>(w.stdio[0].kind));
  EXPECT_TRUE(std::holds_alternative<StdioTrigger>(w.stdio[1].kind));
  EXPECT_TRUE(std::holds_alternative<StdioInherit>(w.stdio[2].kind));  // the "Stderr" item
  const Entrypoint& f = result.spec->entrypoints[1];
  EXPECT_EQ(std::get<StdioFile>(f.stdio[0].kind).path, "/specs/in.txt");  // the spec's folder
  EXPECT_TRUE(std::holds_alternative<StdioNull>(f.stdio[2].kind));        // the default
  ExpectError(Spec(R"("a": {"stdio": {"stdin": "Trigger"}})"), "/entrypoints/a/stdio/stdin",
              "started at startup");
  ExpectError(Spec(R"("a": {"stdio": {"stdout": {"File": "/x"}}})"),
              "/entrypoints/a/stdio/stdout/File", "only be stdin");
  ExpectError(Spec(R"("a": {"stdio": {"stdot": "Null"}})"), "/entrypoints/a/stdio/stdot",
              "did you mean \"stdout\"");
  ExpectError(Spec(R"("a": {"stdio": {"stdin": "Trigerr"}})"), "/entrypoints/a/stdio/stdin",
              "did you mean \"Trigger\"");
  // A channel end as a stream is one of the channel's ends, like an arg.
  LoadResult piped = Load(Spec(R"("p": {"stdio": {"stdout": {"Pipe": {"Tx": "lines"}}}},
      "c": {"trigger": {"Pipe": "lines"}, "stdio": {"stdin": "Trigger"}})"));
  ASSERT_TRUE(piped.spec.has_value()) << Describe(piped);
  EXPECT_EQ(std::get<ArgPipe>(piped.spec->entrypoints[0].stdio[1].kind).name, "lines");
  ExpectError(Spec(R"("p": {"stdio": {"stdout": {"Pipe": {"Tx": "lines"}}}},
      "q": {"args": [{"Pipe": {"Tx": "lines"}}]}, "c": {"trigger": {"Pipe": "lines"}})"),
              "/entrypoints/q/args/0", "already has a writer at /entrypoints/p/stdio/stdout");
  ExpectError(Spec(R"("a": {"stdio": {"stdout": "Null"}, "environment": ["Stdout"]})"),
              "/entrypoints/a/stdio/stdout", "environment item at /entrypoints/a/environment/0");
}

TEST(Rules, ListenerTriggersParseWithTheirCaps) {
  LoadResult result = Load(Spec(R"("t": {"trigger": {"TcpListener": {"addr": "127.0.0.1:8080",
      "max_per_source": 4}}, "args": ["Trigger"]},
      "u": {"trigger": {"UnixListener": {"path": "run/app.sock"}}, "args": ["Trigger"]})"));
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);
  const auto& tcp = std::get<TriggerTcpListener>(result.spec->entrypoints[0].trigger.kind);
  EXPECT_EQ(tcp.address.port, 8080);
  EXPECT_EQ(tcp.max_per_source, 4u);
  EXPECT_EQ(std::get<TriggerUnixListener>(result.spec->entrypoints[1].trigger.kind).path,
            "/specs/run/app.sock");
  ExpectError(Spec(R"("t": {"trigger": {"TcpListener": {"port": 80, "max_per_source": 0}}})"),
              "/entrypoints/t/trigger/TcpListener/max_per_source", "out of range");
  ExpectError(Spec(R"("t": {"trigger": {"TcpListener": {"port": 80, "max_per_sauce": 1}}})"),
              "/entrypoints/t/trigger/TcpListener/max_per_sauce", "did you mean \"max_per_source\"");
  ExpectError(Spec(R"("t": {"trigger": {"TcpListener": {"port": 80}}, "args": ["Trigger"]},
                      "a": {"args": [{"TcpListener": {"addr": "0.0.0.0:80"}}]})"),
              "/entrypoints/a/args/0", "declared twice");
  ExpectError(Spec(R"("u": {"trigger": {"UnixListener": {"path": ")" + std::string(90, 'x') +
                   R"("}}})"),
              "/entrypoints/u/trigger/UnixListener/path", "longer than 80 bytes");
  ExpectError(Spec(R"("u": {"trigger": {"UnixListener": {}}})"),
              "/entrypoints/u/trigger/UnixListener", "needs \"path\"");
}

TEST(Rules, Argv0CwdStopSignalInitAndTmpfs) {
  LoadResult result = Load(Spec(R"("a": {"argv0": "sh", "cwd": "/tmp", "stop_signal": "QUIT",
      "init": true, "environment": [{"Tmpfs": {"environment_path": "/tmp", "size": "4M"}}]},
      "b": {})"));
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);
  const Entrypoint& a = result.spec->entrypoints[0];
  EXPECT_EQ(a.argv0, "sh");
  EXPECT_EQ(a.cwd, "/tmp");
  EXPECT_EQ(a.stop_signal, 3);
  EXPECT_TRUE(a.init);
  EXPECT_EQ(std::get<EnvTmpfs>(a.environment[0].kind).size_bytes, 4u << 20);
  const Entrypoint& b = result.spec->entrypoints[1];
  EXPECT_EQ(b.stop_signal, 15);  // SIGTERM
  EXPECT_FALSE(b.init);
  EXPECT_FALSE(b.cwd.has_value());
  ExpectError(Spec(R"("a": {"stop_signal": "SIGTREM"})"), "/entrypoints/a/stop_signal",
              "did you mean \"SIGTERM\"");
  ExpectError(Spec(R"("a": {"cwd": "data"})"), "/entrypoints/a/cwd", "not absolute");
  ExpectError(Spec(R"("a": {"cwd": "/data"})"), "/entrypoints/a/cwd", "inside a Filesystem");
  ExpectError(Spec(R"("a": {"init": "yes"})"), "/entrypoints/a/init", "must be a boolean");
  ExpectError(Spec(R"("a": {"environment": [{"Tmpfs": {"environment_path": "/tmp",
      "size": "lots"}}]})"), "/entrypoints/a/environment/0/Tmpfs/size", "invalid size");
  ExpectError(Spec(R"("a": {"environment": [{"Tmpfs": {"environment_path": "/proc/x"}}]})"),
              "/entrypoints/a/environment/0/Tmpfs/environment_path", "manages itself");
  ExpectError(Spec(R"("a": {"environment": [{"Tmpfs": {"environment_path": "/d"}},
      {"Filesystem": {"host_path": "/x", "environment_path": "/d/e"}}]})"),
              "/entrypoints/a/environment/1/Filesystem/environment_path", "overlaps");
  ExpectError(Spec(R"("a": {"environment": [{"Filesystem": {"host_path": "/x",
      "environment_path": "/specs/app"}}]})"),
              "/entrypoints/a/environment/0/Filesystem/environment_path", "binary itself");
}

// A writable grant the void's host uid cannot write is reported (a warning: it may exist for
// writable subfolders), naming owner and mode, with the chown as the fix.
TEST(Rules, AWritableGrantTheVoidCannotWriteIsReported) {
  char root_owned[] = "/tmp/shim-rules-XXXXXX";
  ASSERT_NE(mkdtemp(root_owned), nullptr);
  const std::string spec = R"({"binary": "/bin/true", "entrypoints": {"a": {"environment": [
      {"Filesystem": {"host_path": ")" + std::string(root_owned) +
                           R"(", "environment_path": "/data", "read_only": false}}]}}})";
  LoadOptions options;
  options.void_host_uid = 4242;  // owns nothing here
  options.void_host_gid = 4242;
  LoadResult result = LoadSpecText(spec, "/specs/s.json", options);
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);  // a warning only
  ASSERT_EQ(result.diagnostics.size(), 1u) << Describe(result);
  const Diagnostic& d = result.diagnostics[0];
  EXPECT_EQ(d.severity, Severity::kWarning);
  EXPECT_EQ(d.pointer, "/entrypoints/a/environment/0/Filesystem/host_path");
  EXPECT_THAT(d.message, HasSubstr("is not writable by the void"));
  EXPECT_THAT(d.message, HasSubstr("mode 0700"));  // mkdtemp's
  EXPECT_THAT(d.hint, HasSubstr("chown 4242:4242 " + std::string(root_owned)));
  // Owned by the void's uid: nothing to report.
  options.void_host_uid = getuid();
  result = LoadSpecText(spec, "/specs/s.json", options);
  EXPECT_TRUE(result.diagnostics.empty()) << Describe(result);
  rmdir(root_owned);
}

TEST(Rules, ListenersParseAndAreUnique) {
  LoadResult result = Load(Spec(R"("a": {"args": [{"TcpListener": {"addr": "[::1]:8080"}},
                                                   {"TcpListener": {"port": 8080}}]})"));
  ASSERT_TRUE(result.spec.has_value()) << Describe(result);
  const auto& first = std::get<ArgTcpListener>(result.spec->entrypoints[0].args[0].kind);
  EXPECT_TRUE(first.address.ipv6);
  const auto& second = std::get<ArgTcpListener>(result.spec->entrypoints[0].args[1].kind);
  EXPECT_EQ(second.address.text, "0.0.0.0:8080");
  ExpectError(Spec(R"("a": {"args": [{"TcpListener": {"port": 80}}]},
                     "b": {"args": [{"TcpListener": {"addr": "0.0.0.0:80"}}]})"),
              "/entrypoints/b/args/0", "declared twice");
}

TEST(Rules, PointerTokensAreEscaped) {
  ExpectError(Spec(R"("a/b~c": {})"), "/entrypoints/a~1b~0c", "not a valid argv word");
}

}  // namespace
}  // namespace shim::spec
