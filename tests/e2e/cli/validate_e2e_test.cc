// `shim-bpf validate` as a user runs it: exit codes, compiler-style messages, --json, and a
// malformed-spec corpus it has never seen.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nlohmann/json.hpp"
#include "support/subprocess.h"

namespace shim::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Corpus(const std::string& name) { return SourcePath("tests/data/specs/" + name); }

TEST(ValidateE2e, ExampleSpecsAreValid) {
  for (const char* example : {"echo", "pipes"}) {
    CommandResult r = RunCommand({BuiltBinary("shim-bpf"), "validate",
                                  BuiltBinary(std::string("examples/") + example + "/spec.json")});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("ok (2 entrypoints)"));
  }
}

TEST(ValidateE2e, InvalidSpecExitsOneWithPointerMessageAndHint) {
  const std::string spec = Corpus("bad/two_triggers.json");
  CommandResult r = RunCommand({BuiltBinary("shim-bpf"), "validate", spec});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(spec + ":/entrypoints/c/trigger: error: two triggers on Pipe"));
  EXPECT_THAT(r.err, HasSubstr("\n  hint: "));
  EXPECT_THAT(r.err, HasSubstr("invalid (1 error)"));
}

TEST(ValidateE2e, ReportsEveryFileAndFailsIfAnyIsInvalid) {
  CommandResult r = RunCommand({BuiltBinary("shim-bpf"), "validate", "--binary", "/bin/true",
                                Corpus("good/full.json"), Corpus("bad/pipe_no_writer.json"),
                                Corpus("good/chain.json")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("full.json: ok (3 entrypoints)"));
  EXPECT_THAT(r.out, HasSubstr("chain.json: ok (3 entrypoints)"));
  EXPECT_THAT(r.err, HasSubstr("pipe_no_writer.json:/entrypoints/a/args/0: error:"));
}

TEST(ValidateE2e, JsonOutputIsMachineReadable) {
  CommandResult r = RunCommand({BuiltBinary("shim-bpf"), "validate", "--json",
                                Corpus("bad/unknown_entry_key.json"), Corpus("good/chain.json")});
  EXPECT_EQ(r.exit_code, 1);
  nlohmann::json report = nlohmann::json::parse(r.out);
  ASSERT_EQ(report.size(), 2u);
  EXPECT_FALSE(report[0]["valid"].get<bool>());
  EXPECT_EQ(report[0]["diagnostics"][0]["pointer"], "/entrypoints/a/envirnoment");
  EXPECT_EQ(report[0]["diagnostics"][0]["severity"], "error");
  EXPECT_THAT(report[0]["diagnostics"][0]["hint"].get<std::string>(),
              HasSubstr("did you mean \"environment\""));
  EXPECT_TRUE(report[1]["valid"].get<bool>());
  EXPECT_EQ(report[1]["entrypoints"], 3);
}

TEST(ValidateE2e, UsageErrorsExitTwo) {
  EXPECT_EQ(RunCommand({BuiltBinary("shim-bpf"), "validate"}).exit_code, 2);
  EXPECT_EQ(RunCommand({BuiltBinary("shim-bpf"), "validate", "--frobnicate", "x"}).exit_code, 2);
}

TEST(ValidateE2e, MissingFileIsInvalidNotACrash) {
  CommandResult r = RunCommand({BuiltBinary("shim-bpf"), "validate", "/nonexistent/spec.json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/spec.json: error: cannot open"));
}

TEST(ValidateE2e, HelpDescribesExitCodesAndHidesUnfinishedCommands) {
  CommandResult r = RunCommand({BuiltBinary("shim-bpf"), "validate", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("Exit status: 0"));
  EXPECT_THAT(r.out, HasSubstr("--json"));
}

// Malformed specs made up here, not in the corpus: every one exits 1 with a pointer, no crash.
TEST(ValidateE2e, UnseenMalformedSpecsAreRejectedCleanly) {
  const char* specs[] = {
      R"({"entrypoints": {"a": {"args": [{"Pipe": {"Rx": "p", "Tx": "p"}}]}}})",
      R"({"entrypoints": {"a": {"trigger": {"Pipe": ""}}}})",
      R"({"entrypoints": {"a": {"environment": [{"Filesystem": []}]}}})",
      R"({"entrypoints": {"a": {"network": {"outbound": [{"cidr": 10}]}}}})",
      R"({"entrypoints": {"a": {"network": {"inbound": "8080"}}}})",
      R"({"entrypoints": {"a": {"limits": {"memory": -5}}}})",
      R"({"entrypoints": null})",
      R"({"entrypoints": {"a": {"args": [null, true, 1.5, {}]}}})",
      R"("just a string")",
      "{\"entrypoints\": {\"a\": {}}",
  };
  char dir_template[] = "/tmp/shim-validate-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  int index = 0;
  for (const char* text : specs) {
    const std::string path = dir + "/spec" + std::to_string(index++) + ".json";
    FILE* file = std::fopen(path.c_str(), "w");
    ASSERT_NE(file, nullptr);
    std::fputs(text, file);
    std::fclose(file);
    CommandResult r =
        RunCommand({BuiltBinary("shim-bpf"), "validate", "--binary", "/bin/true", path});
    EXPECT_EQ(r.exit_code, 1) << text << "\n" << r.err;
    EXPECT_EQ(r.signal, 0) << text;
    EXPECT_THAT(r.err, HasSubstr(path + ":")) << text;
    EXPECT_THAT(r.err, HasSubstr("error: ")) << text;
    EXPECT_THAT(r.err, Not(HasSubstr("terminate"))) << text;
    std::remove(path.c_str());
  }
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace shim::testing
