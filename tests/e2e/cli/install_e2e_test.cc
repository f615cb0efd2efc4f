// `cmake --install` gives a working tree elsewhere: the installed shim-bpf runs a void under the
// installed shim-init (found beside it), and an app builds against the installed libshim_app
// through its pkg-config file.
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/privileged.h"
#include "support/subprocess.h"

namespace shim::testing {
namespace {

using ::testing::HasSubstr;

TEST(Install, TheInstalledToolsRunAndAnAppBuildsAgainstTheInstalledLibrary) {
  SHIM_REQUIRE_PRIVILEGED();
  char prefix_template[] = "/tmp/shim-install-XXXXXX";
  ASSERT_NE(mkdtemp(prefix_template), nullptr);
  const std::string prefix = prefix_template;
  chmod(prefix.c_str(), 0755);
  CommandResult installed = RunCommand({"cmake", "--install", SHIM_BINARY_DIR, "--prefix", prefix},
                                       "", std::chrono::seconds(120));
  ASSERT_EQ(installed.exit_code, 0) << installed.err;
  for (const char* file : {"bin/shim-bpf", "bin/shim-init", "bin/forktop", "lib/libshim_app.a",
                           "include/shim/app.h", "lib/pkgconfig/shim-app.pc",
                           "share/shim-bpf/shim-bpf.schema.json",
                           "share/shim-bpf/events.schema.json"}) {
    EXPECT_TRUE(std::filesystem::exists(prefix + "/" + file)) << file;
  }
  // The installed supervisor finds the installed shim-init for "init": true.
  const std::string spec = prefix + "/init.json";
  std::ofstream(spec) << R"({"binary": "/bin/busybox", "entrypoints": {"main": {"init": true,
      "args": ["BinaryName", {"Literal": "echo"}, {"Literal": "under shim-init"}],
      "environment": ["Stdout"]}}})";
  CommandResult run = RunCommand({prefix + "/bin/shim-bpf", "run", "-q", spec});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "under shim-init\n");
  // An app built outside the tree, with pkg-config.
  const std::string source = prefix + "/app.c";
  std::ofstream(source) << R"(#include <shim/app.h>
static int hello(int argc, char** argv) { (void)argc; (void)argv; return 7; }
static const struct shim_entrypoint entrypoints[] = {{"hello", hello, ""}};
int main(int argc, char** argv) { return shim_dispatch(argc, argv, entrypoints, 1); }
)";
  setenv("PKG_CONFIG_PATH", (prefix + "/lib/pkgconfig").c_str(), 1);
  CommandResult flags = RunCommand({"pkg-config", "--cflags", "--libs", "shim-app"});
  ASSERT_EQ(flags.exit_code, 0) << flags.err;
  EXPECT_THAT(flags.out, HasSubstr("-lshim_app"));
  CommandResult built = RunCommand(
      {"sh", "-c", "cc -o '" + prefix + "/app' '" + source + "' $(pkg-config --cflags --libs shim-app)"});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  EXPECT_EQ(RunCommand({prefix + "/app", "hello"}).exit_code, 7);
  std::filesystem::remove_all(prefix);
}

}  // namespace
}  // namespace shim::testing
