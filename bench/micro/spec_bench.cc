// Spec parse + validate of a 100-entrypoint spec (issue 8): what `run` and `validate` pay before
// anything starts. Host checks are off so the file system is not measured.
#include <string>

#include "benchmark/benchmark.h"
#include "spec/load.h"

namespace {

// 50 senders, each with a pipe to its own triggered receiver, with grants and limits.
std::string HundredEntrypointSpec() {
  std::string text = R"({"binary": "/bin/true", "entrypoints": {)";
  for (int i = 0; i < 50; ++i) {
    const std::string n = std::to_string(i);
    if (i > 0) text += ",";
    text += "\"sender" + n + "\": {\"args\": [\"BinaryName\", \"Entrypoint\", {\"Pipe\": {\"Tx\": \"p" +
            n + "\"}}], \"environment\": [\"Stderr\", {\"Filesystem\": {\"host_path\": \"/tmp\", " +
            "\"environment_path\": \"/data\"}}], \"network\": {\"outbound\": [{\"cidr\": " +
            "\"10.0.0.0/8\", \"ports\": [5432, \"8000-8099\"]}]}},";
    text += "\"receiver" + n + "\": {\"trigger\": {\"Pipe\": \"p" + n +
            "\"}, \"args\": [\"BinaryName\", \"Trigger\"], \"limits\": {\"memory\": \"64M\", " +
            "\"pids\": 16, \"timeout\": \"30s\", \"concurrency\": 8}}";
  }
  return text + "}}";
}

void BM_SpecParseAndValidate100Entrypoints(benchmark::State& state) {
  const std::string text = HundredEntrypointSpec();
  shim::spec::LoadOptions options;
  options.check_host = false;
  for (auto _ : state) {
    shim::spec::LoadResult result = shim::spec::LoadSpecText(text, "/bench/spec.json", options);
    if (!result.spec || result.spec->entrypoints.size() != 100) {
      state.SkipWithError("the benchmark spec did not load");
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_SpecParseAndValidate100Entrypoints);

}  // namespace
