// The shim-bpf command line as a user meets it: help, version, usage errors and exit codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/subprocess.h"

namespace shim::testing {
namespace {

using ::testing::HasSubstr;

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

}  // namespace
}  // namespace shim::testing
