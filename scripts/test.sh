#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test tier: unit, bpf, e2e, bench.
# Under CI (CI=true) privileged tests must run: SHIM_REQUIRE_PRIVILEGED=1 turns a missing
# privilege into a failure instead of a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

build_dir=${SHIM_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" --parallel "$(nproc)"

if [[ "${CI:-}" == "true" ]]; then
  export SHIM_REQUIRE_PRIVILEGED=1
fi

status=0
# bench only proves the benchmark harness runs (one quick case, no timing assertion).
for tier in unit bpf e2e bench; do
  echo "== ctest tier: $tier"
  if ! ctest --test-dir "$build_dir" -L "^${tier}\$" --output-on-failure --no-tests=error \
       --timeout 600; then
    status=1
  fi
done
exit $status
