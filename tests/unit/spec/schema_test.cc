// spec/shim-bpf.schema.json against the corpora, with valijson: good specs and examples
// validate, and a bad spec is rejected exactly when bad/EXPECTED says the schema can see it.
#include <memory>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "unit/spec/corpus.h"
#include "valijson/adapters/nlohmann_json_adapter.hpp"
#include "valijson/schema.hpp"
#include "valijson/schema_parser.hpp"
#include "valijson/validator.hpp"

namespace shim::spec::testing {
namespace {

class SchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    schema_document_ = nlohmann::json::parse(
        ReadWholeFile(std::string(SHIM_SOURCE_DIR) + "/spec/shim-bpf.schema.json"));
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(schema_document_);
    parser.populateSchema(adapter, schema_);
  }

  // True when `text` is JSON and the schema accepts it.
  bool Accepts(const std::string& text, std::string& why) {
    nlohmann::json document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded()) {
      why = "not JSON";
      return false;
    }
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter adapter(document);
    const bool ok = validator.validate(schema_, adapter, &results);
    valijson::ValidationResults::Error error;
    why.clear();
    while (results.popError(error)) {
      for (const std::string& part : error.context) why += part;
      why += ": " + error.description + "\n";
    }
    return ok;
  }

  nlohmann::json schema_document_;
  valijson::Schema schema_;
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
