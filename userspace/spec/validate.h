// Step 2 of reading a spec: rules that span entrypoints or need the whole model (channel
// endpoints, triggers, reachability, filesystem grant layout, limits that only make sense for
// some triggers). Host checks (binaries, paths) belong to load.h.
#pragma once

#include <vector>

#include "spec/diagnostic.h"
#include "spec/model.h"

namespace shim::spec {

void ValidateSpec(const Spec& spec, std::vector<Diagnostic>& diagnostics);

}  // namespace shim::spec
