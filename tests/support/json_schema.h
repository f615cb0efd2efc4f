// Validation of JSON documents against a JSON Schema file of the repository (valijson), for the
// tests of spec/shim-bpf.schema.json and docs/events.schema.json.
#pragma once

#include <string>

#include "nlohmann/json.hpp"
#include "valijson/adapters/nlohmann_json_adapter.hpp"
#include "valijson/schema.hpp"
#include "valijson/schema_parser.hpp"
#include "valijson/validator.hpp"

namespace shim::testing {

class JsonSchema {
 public:
  explicit JsonSchema(const nlohmann::json& document) : document_(document) {
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(document_);
    parser.populateSchema(adapter, schema_);
  }

  // "" when `value` is valid, else every error, one per line, with where it is.
  std::string Errors(const nlohmann::json& value) const {
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter adapter(value);
    if (validator.validate(schema_, adapter, &results)) return "";
    std::string why;
    valijson::ValidationResults::Error error;
    while (results.popError(error)) {
      for (const std::string& part : error.context) why += part;
      why += ": " + error.description + "\n";
    }
    return why.empty() ? "invalid\n" : why;
  }

 private:
  nlohmann::json document_;
  valijson::Schema schema_;
};

}  // namespace shim::testing
