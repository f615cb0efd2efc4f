#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for a bounded time starting
# from its committed corpus (tests/fuzz/NAME/corpus). A crash fails the run; its input is kept in
# build-fuzz/crashes/NAME/ — add it to the corpus so it becomes a regression test.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 60; SHIM_FUZZ_SECONDS also sets it)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-${SHIM_FUZZ_SECONDS:-60}}
build_dir=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHIM_FUZZ=ON \
  >/dev/null
mapfile -t targets < <(find tests/fuzz -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
cmake --build "$build_dir" --parallel "$(nproc)" --target "${targets[@]/%/_fuzz}"

status=0
for t in "${targets[@]}"; do
  work=$(mktemp -d)
  crashes="$build_dir/crashes/$t"
  mkdir -p "$crashes"
  cp -r "tests/fuzz/$t/corpus/." "$work/"
  echo "== fuzz $t for ${seconds}s"
  if ! "$build_dir/tests/fuzz/${t}_fuzz" "$work" -max_total_time="$seconds" -timeout=10 \
       -rss_limit_mb=2048 -max_len=70000 -artifact_prefix="$crashes/" -print_final_stats=1 \
       2> "$build_dir/$t.log"; then
    echo "fuzz $t: FAILED; input(s) in $crashes, log in $build_dir/$t.log" >&2
    tail -30 "$build_dir/$t.log" >&2
    status=1
  else
    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$build_dir/$t.log" | tr '\n' ' '
    echo
  fi
  rm -rf "$work"
done
exit $status
