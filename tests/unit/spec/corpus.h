// The spec corpora under tests/data/specs: good/ specs that must load, bad/ specs each listed in
// bad/EXPECTED with the pointer and words its error must carry, and the examples' specs.
#pragma once

#include <string>
#include <vector>

namespace shim::spec::testing {

struct BadCase {
  std::string file;     // absolute path
  std::string pointer;  // where the error must be reported
  std::string words;    // in the message or the hint
  bool schema_rejects;  // the JSON Schema rejects it too (else only the C++ validator does)
};

std::vector<std::string> GoodSpecs();        // tests/data/specs/good/*.json
std::vector<std::string> ExampleSpecs();     // <build>/examples/*/spec.json, beside their binary
std::vector<BadCase> BadCases();             // from tests/data/specs/bad/EXPECTED
std::vector<std::string> BadSpecFiles();     // every tests/data/specs/bad/*.json
std::string ReadWholeFile(const std::string& path);

}  // namespace shim::spec::testing
