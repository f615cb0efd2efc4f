#include "unit/spec/corpus.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_split.h"

namespace shim::spec::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> JsonFilesIn(const fs::path& folder) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

const fs::path kCorpus = fs::path(SHIM_SOURCE_DIR) / "tests/data/specs";

}  // namespace

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> GoodSpecs() { return JsonFilesIn(kCorpus / "good"); }
std::vector<std::string> BadSpecFiles() { return JsonFilesIn(kCorpus / "bad"); }

std::vector<std::string> ExampleSpecs() {
  std::vector<std::string> specs;
  for (const auto& entry : fs::directory_iterator(fs::path(SHIM_BINARY_DIR) / "examples")) {
    if (fs::exists(entry.path() / "spec.json")) specs.push_back(entry.path() / "spec.json");
  }
  std::sort(specs.begin(), specs.end());
  return specs;
}

std::vector<BadCase> BadCases() {
  std::vector<BadCase> cases;
  std::istringstream lines(ReadWholeFile(kCorpus / "bad/EXPECTED"));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (fields.size() != 4) continue;  // caught by the test that every file is listed
    cases.push_back({(kCorpus / "bad" / fields[0]).string(), fields[1], fields[2],
                     fields[3] == "reject"});
  }
  return cases;
}

}  // namespace shim::spec::testing
