#!/usr/bin/env bash
# Google Benchmark micro-benchmarks (bench/micro/*_bench.cc): per-operation costs of the library
# code on the request path. Saved as Google Benchmark's own JSON.
set -euo pipefail
min_time=$([[ $QUICK == 1 ]] && echo 0.05 || echo 0.5)
"$BUILD_DIR/bench/micro_bench" --benchmark_min_time="$min_time" \
  --benchmark_out="$RESULTS_DIR/micro.json" --benchmark_out_format=json
