// The specs of docs/recipes/ run real Debian programs unchanged: each test runs one as a user
// would (`shim-bpf run SPEC`), checks what the program did, and where a spec key is what makes
// it work, shows the failure without it.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "e2e/run/run_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/privileged.h"
#include "support/subprocess.h"

namespace shim::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Recipe(const std::string& name) { return absl::StrCat(RECIPES_DIR, "/", name); }

// The recipe's text with `from` replaced by `to` everywhere, written into `dir`.
std::string EditedRecipe(const RunFixtureDir& dir, const std::string& name, const std::string& from,
                         const std::string& to) {
  std::ifstream in(Recipe(name));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text = absl::StrReplaceAll(text, {{from, to}});
  const std::string path = absl::StrCat(dir.path(), "/", name);
  std::ofstream(path) << text;
  return path;
}

// python3 from Debian with its C extension modules (dlopen of .so files under an exec grant),
// literal args and an environment.
TEST(Recipes, Python3LoadsItsCExtensions) {
  SHIM_REQUIRE_PRIVILEGED();
  ASSERT_EQ(access("/usr/bin/python3", X_OK), 0) << "scripts/setup.sh installs python3";
  CommandResult r = RunCommand({BuiltBinary("shim-bpf"), "run", "-q", Recipe("python3.json")}, "",
                               std::chrono::seconds(60));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("C extensions: _json _ssl _sqlite3 _ctypes _decimal _hashlib"));
  EXPECT_THAT(r.out, HasSubstr("sqlite: 3."));
  EXPECT_THAT(r.out, HasSubstr("ctypes strlen: 5"));
  EXPECT_THAT(r.out, HasSubstr("env: LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 HOME=/"));
  EXPECT_THAT(r.out, Not(HasSubstr("SHELL")));  // nothing of the supervisor's environment

  // The control: the same grant without "exec" is noexec, and no extension loads.
  RunFixtureDir dir;
  const std::string noexec = EditedRecipe(dir, "python3.json", R"(, "exec": true)", "");
  r = RunCommand({BuiltBinary("shim-bpf"), "run", "-q", noexec}, "", std::chrono::seconds(60));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("failed to map segment from shared object"));
}

}  // namespace
}  // namespace shim::testing
