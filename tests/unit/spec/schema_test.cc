// spec/shim-bpf.schema.json against the corpora, with valijson: good specs and examples
// validate, and a bad spec is rejected exactly when bad/EXPECTED says the schema can see it.
#include <memory>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "support/json_schema.h"
#include "unit/spec/corpus.h"

namespace shim::spec::testing {
namespace {

class SchemaTest : public ::testing::Test {
 protected:
  // True when `text` is JSON and the schema accepts it; `why` says what it refused.
  bool Accepts(const std::string& text, std::string& why) {
    nlohmann::json document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded()) {
      why = "not JSON";
      return false;
    }
    why = schema_.Errors(document);
    return why.empty();
  }

  ::shim::testing::JsonSchema schema_{nlohmann::json::parse(
      ReadWholeFile(std::string(SHIM_SOURCE_DIR) + "/spec/shim-bpf.schema.json"))};
};

TEST_F(SchemaTest, GoodSpecsAndExamplesValidate) {
  std::vector<std::string> files = GoodSpecs();
  for (const std::string& example : ExampleSpecs()) files.push_back(example);
  ASSERT_GE(files.size(), 8u);
  for (const std::string& file : files) {
    std::string why;
    EXPECT_TRUE(Accepts(ReadWholeFile(file), why)) << file << "\n" << why;
  }
}

TEST_F(SchemaTest, BadSpecsAreRejectedWhereTheSchemaCanSeeIt) {
  int rejected = 0;
  for (const BadCase& bad : BadCases()) {
    std::string why;
    const bool accepted = Accepts(ReadWholeFile(bad.file), why);
    EXPECT_EQ(accepted, !bad.schema_rejects)
        << bad.file << (bad.schema_rejects ? " should be rejected by the schema"
                                           : " is marked as beyond the schema (semantic)")
        << "\n"
        << why;
    rejected += accepted ? 0 : 1;
  }
  EXPECT_GE(rejected, 25);
}

}  // namespace
}  // namespace shim::spec::testing
