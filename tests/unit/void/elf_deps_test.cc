// The ELF dependency resolver on real host binaries (no privilege needed).
#include "void/elf_deps.h"

#include <unistd.h>

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace shim::sandbox {
namespace {

using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;

TEST(ElfDeps, LsNeedsItsInterpreterAndLibc) {
  absl::StatusOr<ElfInfo> info = ReadElfInfo("/bin/ls");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->dynamic);
  EXPECT_THAT(info->interpreter, HasSubstr("ld-linux"));
  EXPECT_THAT(info->needed, Contains("libc.so.6"));

  absl::StatusOr<std::vector<DependencyBind>> deps =
      ResolveElfDependencies("/bin/ls", "/usr/bin/x", HostLibrarySearchPath());
  ASSERT_TRUE(deps.ok()) << deps.status();
  ASSERT_FALSE(deps->empty());
  // The interpreter comes first, at the path PT_INTERP names, bound from the real file.
  EXPECT_EQ((*deps)[0].void_path, info->interpreter);
  EXPECT_EQ(access((*deps)[0].host_path.c_str(), R_OK), 0);
  EXPECT_THAT(*deps, Contains(Field(&DependencyBind::void_path, HasSubstr("/libc.so.6"))));
  // Transitive: ls needs libselinux, which needs libpcre2 (Debian).
  if (std::find(info->needed.begin(), info->needed.end(), "libselinux.so.1") !=
      info->needed.end()) {
    EXPECT_THAT(*deps, Contains(Field(&DependencyBind::void_path, HasSubstr("libpcre2-8"))));
  }
  // No duplicates, every host file real (symlinks resolved).
  std::set<std::string> seen;
  for (const DependencyBind& d : *deps) {
    EXPECT_TRUE(seen.insert(d.void_path).second) << d.void_path;
    char buf[4096];
    EXPECT_EQ(readlink(d.host_path.c_str(), buf, sizeof buf), -1) << d.host_path << " is a link";
  }
}

TEST(ElfDeps, StaticBinaryNeedsNothing) {
  absl::StatusOr<ElfInfo> info = ReadElfInfo(STATIC_EXIT);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->interpreter.empty());
  EXPECT_TRUE(info->needed.empty());
  absl::StatusOr<std::vector<DependencyBind>> deps =
      ResolveElfDependencies(STATIC_EXIT, "/usr/bin/x", HostLibrarySearchPath());
  ASSERT_TRUE(deps.ok()) << deps.status();
  EXPECT_TRUE(deps->empty());
}

TEST(ElfDeps, ClearErrors) {
  EXPECT_THAT(ReadElfInfo("/nonexistent").status().message(), HasSubstr("ENOENT"));
  char script[] = "/tmp/shim-elf-test-XXXXXX";
  int fd = mkstemp(script);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "#!/bin/sh\n", 10), 10);
  close(fd);
  EXPECT_THAT(ReadElfInfo(script).status().message(), HasSubstr("script"));
  std::ofstream(script) << "plain text";
  EXPECT_THAT(ReadElfInfo(script).status().message(), HasSubstr("not an ELF file"));
  // A truncated ELF: the header promises program headers beyond the end of the file.
  {
    std::ifstream in("/bin/ls", std::ios::binary);
    std::string head(80, '\0');
    in.read(head.data(), head.size());
    std::ofstream(script, std::ios::binary) << head;
  }
  EXPECT_THAT(ReadElfInfo(script).status().message(), HasSubstr("truncated"));
  unlink(script);
}

TEST(ElfDeps, SearchPathHasMultiarchDefaults) {
  LibrarySearchPath s = HostLibrarySearchPath();
  ASSERT_FALSE(s.default_dirs.empty());
#if defined(__x86_64__)
  EXPECT_EQ(s.default_dirs[0], "/lib/x86_64-linux-gnu");
#endif
}

}  // namespace
}  // namespace shim::sandbox
