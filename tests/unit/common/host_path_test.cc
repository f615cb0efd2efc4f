#include "common/host_path.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/privileged.h"

// Root-owned symlinks need root to make: skipped unprivileged, a failure under CI.
#define SHIM_REQUIRE_ROOT()                                             \
  do {                                                                  \
    if (geteuid() != 0) {                                               \
      if (::shim::testing::PrivilegeRequired()) FAIL() << "needs root"; \
      GTEST_SKIP() << "root-owned symlinks need root to make";          \
    }                                                                   \
  } while (0)

namespace shim {
namespace {

using ::testing::HasSubstr;

class HostPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/host-path-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    std::filesystem::create_directories(dir_ + "/real/sub");
    std::ofstream(dir_ + "/real/sub/file") << "x";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(HostPathTest, PlainPathsAndDotsAreCanonical) {
  absl::StatusOr<std::string> p = CanonicalTrustedPath(dir_ + "/real/./sub/../sub/file");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, dir_ + "/real/sub/file");
  EXPECT_EQ(*CanonicalTrustedPath("/"), "/");
  EXPECT_EQ(*CanonicalTrustedPath("/.."), "/");
}

TEST_F(HostPathTest, SymlinksOwnedByTheCallerAreFollowedRelativeAndAbsolute) {
  // The test may run unprivileged: a symlink it makes is owned by its own uid, which is root only
  // when the test runs as root.
  ASSERT_EQ(symlink("real/sub", (dir_ + "/relative").c_str()), 0);
  ASSERT_EQ(symlink((dir_ + "/real").c_str(), (dir_ + "/absolute").c_str()), 0);
  SHIM_REQUIRE_ROOT();
  EXPECT_EQ(*CanonicalTrustedPath(dir_ + "/relative/file"), dir_ + "/real/sub/file");
  EXPECT_EQ(*CanonicalTrustedPath(dir_ + "/absolute/sub/../sub"), dir_ + "/real/sub");
}

TEST_F(HostPathTest, ASymlinkNotOwnedByRootIsRefusedNamingIt) {
  const std::string link = dir_ + "/planted";
  ASSERT_EQ(symlink("/", link.c_str()), 0);
  if (geteuid() == 0) {
    ASSERT_EQ(lchown(link.c_str(), 65534, 65534), 0);
  }
  absl::StatusOr<std::string> p = CanonicalTrustedPath(link + "/etc");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(p.status().message(), HasSubstr("symlink " + link + " is owned by uid"));
}

TEST_F(HostPathTest, MissingPathsAndSymlinkLoopsAreErrors) {
  absl::StatusOr<std::string> missing = CanonicalTrustedPath(dir_ + "/real/nope/deeper");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(dir_ + "/real/nope/deeper: " + dir_));
  EXPECT_FALSE(CanonicalTrustedPath("relative/path").ok());
  ASSERT_EQ(symlink("loop", (dir_ + "/loop").c_str()), 0);
  SHIM_REQUIRE_ROOT();
  EXPECT_THAT(CanonicalTrustedPath(dir_ + "/loop").status().message(), HasSubstr("40 symlinks"));
}

TEST_F(HostPathTest, OpenNoSymlinksRefusesAComponentSwappedForASymlink) {
  absl::StatusOr<UniqueFd> fd = OpenNoSymlinks(dir_ + "/real/sub/file", O_RDONLY);
  ASSERT_TRUE(fd.ok()) << fd.status();
  ASSERT_EQ(rename((dir_ + "/real/sub").c_str(), (dir_ + "/real/moved").c_str()), 0);
  ASSERT_EQ(symlink(dir_.c_str(), (dir_ + "/real/sub").c_str()), 0);
  absl::StatusOr<UniqueFd> swapped = OpenNoSymlinks(dir_ + "/real/sub/file", O_RDONLY);
  ASSERT_FALSE(swapped.ok());
  EXPECT_THAT(swapped.status().message(), HasSubstr("changed since start-up"));
}

TEST(HostPath, PseudoFilesystemsAreRecognised) {
  UniqueFd proc(open("/proc/self/maps", O_RDONLY | O_CLOEXEC));
  UniqueFd sys(open("/sys/kernel", O_PATH | O_CLOEXEC));
  UniqueFd tmp(open("/tmp", O_PATH | O_CLOEXEC));
  EXPECT_TRUE(OnPseudoFilesystem(proc.get()));
  EXPECT_TRUE(OnPseudoFilesystem(sys.get()));
  EXPECT_FALSE(OnPseudoFilesystem(tmp.get()));
}

TEST(HostPath, BeneathIsComponentWise) {
  EXPECT_TRUE(IsSameOrBeneath("/a/b", "/a/b"));
  EXPECT_TRUE(IsSameOrBeneath("/a/b/c", "/a/b"));
  EXPECT_FALSE(IsSameOrBeneath("/a/bc", "/a/b"));
  EXPECT_FALSE(IsSameOrBeneath("/a", "/a/b"));
  EXPECT_TRUE(IsSameOrBeneath("/anything", "/"));
}

}  // namespace
}  // namespace shim
