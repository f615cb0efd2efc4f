// A real run's --events output, line by line, against docs/events.schema.json: every kind of
// event a run writes (with --trace, a denial and a refused request among them) is described by it.
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "e2e/run/run_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/json_schema.h"
#include "support/privileged.h"
#include "support/subprocess.h"

namespace shim::testing {
namespace {

TEST(EventsE2e, EveryLineOfARealRunMatchesTheDocumentedSchema) {
  SHIM_REQUIRE_PRIVILEGED();
  std::ifstream in(std::string(SHIM_SOURCE_DIR) + "/docs/events.schema.json");
  std::stringstream text;
  text << in.rdbuf();
  const JsonSchema schema(nlohmann::json::parse(text.str()));
  RunFixtureDir dir;
  const std::string spec = dir.WriteSpec(R"(
      "exit": {"args": ["BinaryName", "Entrypoint", {"Literal": "3"}]},
      "segv": {"args": ["BinaryName", "Entrypoint"]},
      "connect": {"args": ["BinaryName", "Entrypoint", {"Literal": "127.0.0.1"}, {"Literal": "9"}],
                  "network": {"outbound": []}},
      "send-nul": {"args": ["BinaryName", "Entrypoint", {"Pipe": {"Tx": "p"}}]},
      "handler": {"trigger": {"Pipe": "p"}, "args": ["BinaryName", "Entrypoint", "Trigger"]})");
  CommandResult r = RunCommand(
      {BuiltBinary("shim-bpf"), "run", "-q", "--trace", "--events", dir.events_path(), spec});
  EXPECT_EQ(r.exit_code, 3) << r.err;  // the first failing Startup entrypoint's code
  std::set<std::string> kinds;
  std::istringstream lines(ReadFileOrEmpty(dir.events_path()));
  for (std::string line; std::getline(lines, line);) {
    const nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(event.is_discarded()) << line;
    EXPECT_EQ(schema.Errors(event), "") << line;
    kinds.insert(event.value("event", ""));
  }
  for (const char* kind : {"run_start", "spawn", "exit", "denial", "trigger_refused",
                           "process_fork", "process_exec", "process_exit", "run_end"}) {
    EXPECT_EQ(kinds.count(kind), 1u) << kind << " never written";
  }
}

}  // namespace
}  // namespace shim::testing
