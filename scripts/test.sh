#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test tier:
#   1. Release build: ctest tiers unit, bpf, e2e, bench (bench only proves the harness runs)
#   2. ASan+UBSan build (build-asan): tiers unit, bpf, e2e
#   3. clang-tidy on the sources (any finding fails)
#   4. libFuzzer targets, each for SHIM_FUZZ_SECONDS (default 60)
# `scripts/test.sh --quick` runs stage 1 only, for iterating.
# Under CI (CI=true) privileged tests must run: SHIM_REQUIRE_PRIVILEGED=1 turns a missing
# privilege into a failure instead of a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[[ ${1:-} == --quick ]] && quick=1
[[ ${1:-} == --long ]] && export SHIM_SOAK_SCALE=full  # the soak at full size (tests/e2e/faults)

./scripts/setup.sh
if [[ "${CI:-}" == "true" ]]; then
  export SHIM_REQUIRE_PRIVILEGED=1
fi

passed=0 failed=0 status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run_tiers BUILD_DIR TIER...: one ctest run per tier, counting passes and failures.
run_tiers() {
  local dir=$1
  shift
  for tier in "$@"; do
    echo "== ctest $dir tier: $tier"
    if ! ctest --test-dir "$dir" -L "^${tier}\$" --output-on-failure --no-tests=error \
         --timeout 900 2>&1 | tee "$log"; then
      status=1
    fi
    local line
    line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
    if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
      failed=$((failed + BASH_REMATCH[1]))
      passed=$((passed + BASH_REMATCH[2] - BASH_REMATCH[1]))
    else
      echo "ctest printed no result for tier $tier in $dir" >&2
      failed=$((failed + 1))
      status=1
    fi
  done
}

build_dir=${SHIM_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" --parallel "$(nproc)"
run_tiers "$build_dir" unit bpf e2e bench

if ((!quick)); then
  echo "== ASan+UBSan build"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHIM_SANITIZE=ON >/dev/null
  cmake --build build-asan --parallel "$(nproc)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_tiers build-asan unit bpf e2e

  echo "== clang-tidy"
  if ./scripts/tidy.sh "$build_dir"; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi

  echo "== fuzzing"
  if ./scripts/fuzz.sh "${SHIM_FUZZ_SECONDS:-60}"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    status=1
  fi
fi

echo "$passed passed, $failed failed"
exit $status
