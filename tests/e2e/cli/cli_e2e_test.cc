// The shim-bpf command line as a user meets it: help, version, usage errors and exit codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/subprocess.h"

namespace shim::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(CliE2e, VersionPrintsNameAndVersion) {
  CommandResult r = RunCommand({BuiltBinary("shim-bpf"), "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("shim-bpf 0."));
}

TEST(CliE2e, HelpListsSubcommands) {
  CommandResult r = RunCommand({BuiltBinary("shim-bpf"), "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("validate"));
}

TEST(CliE2e, NoSubcommandIsAUsageErrorWithExitCode2) {
  CommandResult r = RunCommand({BuiltBinary("shim-bpf")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("subcommand is required"));
}

TEST(CliE2e, UnknownSubcommandIsAUsageError) {
  CommandResult r = RunCommand({BuiltBinary("shim-bpf"), "frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("frobnicate"));
}

// --grace takes a duration or, like sleep and timeout, a bare number of seconds.
TEST(CliE2e, GraceTakesADurationOrBareSeconds) {
  for (const char* grace : {"5", "0.5", "5s", "250ms"}) {
    CommandResult r =
        RunCommand({BuiltBinary("shim-bpf"), "run", "/nonexistent/spec.json", "--grace", grace});
    EXPECT_EQ(r.exit_code, 2) << grace;
    EXPECT_THAT(r.err, Not(HasSubstr("--grace"))) << grace << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("cannot open")) << grace;
  }
  CommandResult bad =
      RunCommand({BuiltBinary("shim-bpf"), "run", "/nonexistent/spec.json", "--grace", "soon"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("--grace"));
}

}  // namespace
}  // namespace shim::testing
