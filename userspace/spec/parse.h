// Step 1 of reading a spec: the JSON document -> the typed model. Reports every structural
// problem (unknown keys with suggestions, wrong types, malformed values) with its JSON pointer
// and keeps going, so one run of `shim-bpf validate` shows them all. Cross-entrypoint rules
// (channels, triggers, reachability) are validate.h's job.
#pragma once

#include <vector>

#include "nlohmann/json.hpp"
#include "spec/diagnostic.h"
#include "spec/model.h"

namespace shim::spec {

// Always returns a model of what could be understood; `diagnostics` says what could not.
Spec ParseSpec(const nlohmann::ordered_json& document, std::vector<Diagnostic>& diagnostics);

}  // namespace shim::spec
