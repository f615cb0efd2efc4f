// Hostile spec files: each is a clear error, in bounded time and memory, never a crash.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "spec/load.h"

namespace shim::spec {
namespace {

using ::testing::HasSubstr;

// A file in a fresh temporary folder, removed with it.
class TempFile {
 public:
  TempFile() {
    char pattern[] = "/tmp/shim-spec-test-XXXXXX";
    dir_ = mkdtemp(pattern);
    path_ = dir_ + "/spec.json";
  }
  ~TempFile() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }
  void Write(const std::string& text) const {
    FILE* file = std::fopen(path_.c_str(), "wb");
    ASSERT_NE(file, nullptr);
    ASSERT_EQ(std::fwrite(text.data(), 1, text.size(), file), text.size());
    std::fclose(file);
  }

 private:
  std::string dir_;
  std::string path_;
};

std::string OnlyError(const LoadResult& result) {
  EXPECT_FALSE(result.spec.has_value());
  EXPECT_FALSE(result.diagnostics.empty());
  return result.diagnostics.empty() ? "" : result.diagnostics[0].message;
}

long MaxRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(HostileSpecs, EmptyFile) {
  TempFile file;
  file.Write("");
  EXPECT_THAT(OnlyError(LoadSpecFile(file.path())), HasSubstr("file is empty"));
  file.Write("  \n\t ");
  EXPECT_THAT(OnlyError(LoadSpecFile(file.path())), HasSubstr("file is empty"));
}

TEST(HostileSpecs, NonUtf8) {
  TempFile file;
  file.Write("{\"binary\": \"\xc3\x28\", \"entrypoints\": {\"a\": {}}}");
  EXPECT_THAT(OnlyError(LoadSpecFile(file.path())), HasSubstr("not valid JSON"));
  file.Write("\xff\xfe{}");  // a UTF-16 byte order mark
  EXPECT_THAT(OnlyError(LoadSpecFile(file.path())), HasSubstr("not valid JSON (line 1, column 1)"));
}

TEST(HostileSpecs, DeepNestingStopsAtTheLimit) {
  TempFile file;
  file.Write(std::string(1000, '[') + std::string(1000, ']'));
  LoadResult result = LoadSpecFile(file.path());
  EXPECT_THAT(OnlyError(result), HasSubstr("nesting deeper than"));
  file.Write("{\"entrypoints\": {\"a\": {\"args\": " + std::string(1000, '[') +
             std::string(1000, ']') + "}}}");
  EXPECT_THAT(OnlyError(LoadSpecFile(file.path())), HasSubstr("nesting deeper than"));
  // An unterminated deep document, the worst case for a recursive parser.
  file.Write(std::string(100000, '{'));
  EXPECT_FALSE(LoadSpecFile(file.path()).spec.has_value());
}

TEST(HostileSpecs, HundredMegabyteFileIsRefusedWithoutReadingIt) {
  TempFile file;
  file.Write("");
  ASSERT_EQ(truncate(file.path().c_str(), 100 << 20), 0);
  const long rss_before = MaxRssKb();
  EXPECT_THAT(OnlyError(LoadSpecFile(file.path())), HasSubstr("larger than"));
  EXPECT_LT(MaxRssKb() - rss_before, 16 * 1024) << "the loader must not read 100 MB into memory";
}

TEST(HostileSpecs, LargeTextInMemoryIsRefused) {
  std::string text = "{\"entrypoints\": {\"a\": {}}, \"binary\": \"" +
                     std::string(2 << 20, 'x') + "\"}";
  EXPECT_THAT(OnlyError(LoadSpecText(text, "mem.json")), HasSubstr("larger than"));
}

TEST(HostileSpecs, NulBytes) {
  TempFile file;
  file.Write(std::string("{\"entrypoints\": {\"a\": {}}}\0\0", 28));
  EXPECT_THAT(OnlyError(LoadSpecFile(file.path())), HasSubstr("not valid JSON"));
  file.Write(std::string("\0", 1));
  EXPECT_THAT(OnlyError(LoadSpecFile(file.path())), HasSubstr("not valid JSON"));
}

TEST(HostileSpecs, NotARegularFile) {
  EXPECT_THAT(OnlyError(LoadSpecFile("/tmp")), HasSubstr("is a directory"));
  EXPECT_THAT(OnlyError(LoadSpecFile("/dev/zero")), HasSubstr("not a regular file"));
  EXPECT_THAT(OnlyError(LoadSpecFile("/nonexistent/spec.json")),
              HasSubstr("No such file or directory"));
  TempFile fifo_dir;
  ASSERT_EQ(mkfifo(fifo_dir.path().c_str(), 0600), 0);
  EXPECT_THAT(OnlyError(LoadSpecFile(fifo_dir.path())), HasSubstr("not a regular file"));
}

TEST(HostileSpecs, ManyEntrypointsAndLongKeysStayBounded) {
  std::string text = R"({"binary": "/bin/true", "entrypoints": {)";
  for (int i = 0; i < 4000; ++i) {
    if (i > 0) text += ",";
    text += "\"e" + std::to_string(i) + "\": {\"x" + std::string(200, 'y') + "\": 1}";
  }
  text += "}}";
  LoadOptions options;
  options.check_host = false;
  LoadResult result = LoadSpecText(text, "many.json", options);
  EXPECT_FALSE(result.spec.has_value());
  EXPECT_EQ(result.diagnostics.size(), 4000u);  // one unknown key each, each with its pointer
}

}  // namespace
}  // namespace shim::spec
