// The corpora through the loader: every good spec and example loads, every bad spec fails with
// its error at the pointer EXPECTED names.
#include <set>

#include "gtest/gtest.h"
#include "spec/load.h"
#include "unit/spec/corpus.h"

namespace shim::spec::testing {
namespace {

std::string Describe(const LoadResult& result) {
  std::string text;
  for (const Diagnostic& d : result.diagnostics) text += FormatDiagnostic("", d) + "\n";
  return text;
}

TEST(SpecCorpus, GoodSpecsLoad) {
  ASSERT_GE(GoodSpecs().size(), 6u);
  LoadOptions options;
  options.binary_override = "/bin/true";  // the prototype's specs name no binary
  for (const std::string& file : GoodSpecs()) {
    LoadResult result = LoadSpecFile(file, options);
    EXPECT_TRUE(result.spec.has_value()) << file << ":\n" << Describe(result);
  }
}

TEST(SpecCorpus, ExampleSpecsLoadBesideTheirBinaries) {
  std::vector<std::string> examples = ExampleSpecs();
  ASSERT_GE(examples.size(), 2u);
  for (const std::string& file : examples) {
    LoadResult result = LoadSpecFile(file);
    EXPECT_TRUE(result.spec.has_value()) << file << ":\n" << Describe(result);
    EXPECT_TRUE(result.diagnostics.empty()) << file << ":\n" << Describe(result);
  }
}

TEST(SpecCorpus, EveryBadSpecIsListedWithItsPointer) {
  std::set<std::string> listed;
  for (const BadCase& bad : BadCases()) listed.insert(bad.file);
  for (const std::string& file : BadSpecFiles()) {
    EXPECT_EQ(listed.count(file), 1u) << file << " has no line in bad/EXPECTED";
  }
  EXPECT_EQ(listed.size(), BadSpecFiles().size()) << "EXPECTED lists files that do not exist";
}

TEST(SpecCorpus, BadSpecsFailAtTheirPointer) {
  ASSERT_GE(BadCases().size(), 50u);
  for (const BadCase& bad : BadCases()) {
    LoadResult result = LoadSpecFile(bad.file);
    EXPECT_FALSE(result.spec.has_value()) << bad.file;
    bool found = false;
    for (const Diagnostic& d : result.diagnostics) {
      found = found || (d.severity == Severity::kError && d.pointer == bad.pointer &&
                        (d.message + " " + d.hint).find(bad.words) != std::string::npos);
    }
    EXPECT_TRUE(found) << bad.file << ": want error at \"" << bad.pointer << "\" with \""
                       << bad.words << "\"; got:\n"
                       << Describe(result);
  }
}

}  // namespace
}  // namespace shim::spec::testing
