#!/usr/bin/env bash
# Runs every benchmark comparison on this machine and writes bench/results/<case>.json and .svg
# plus bench/results/summary.md (the table bench/README.md shows).
#
#   bench/run.sh [--quick] [--only CASE] [--build-dir DIR] [--no-build] [--results-dir DIR]
#
# --quick finishes in under 3 minutes (fewer rounds); the full run in under 20. Each case
# interleaves its series round by round, so machine noise falls on all of them alike; read the
# ratios, not the absolute times.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0 only="" build_dir="$root/build" build=1 results_dir="$root/bench/results"
while (($#)); do
  case $1 in
    --quick) quick=1 ;;
    --only) only=$2; shift ;;
    --build-dir) build_dir=$(realpath -m "$2"); shift ;;  # cases hand it to specs and other dirs
    --no-build) build=0 ;;
    --results-dir) results_dir=$(realpath -m "$2"); shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if ((build)); then
  "$root/scripts/setup.sh"
  cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build_dir" --parallel "$(nproc)" >/dev/null
fi

mkdir -p "$results_dir"
export BUILD_DIR=$build_dir RESULTS_DIR=$results_dir QUICK=$quick
# Debian's python3 (with python3-matplotlib), not whichever python3 comes first in PATH.
export PYTHON=/usr/bin/python3
export REPORT="$root/bench/lib/report.py" BENCH_COMMAND="bench/run.sh $*"
ran=0
for case_script in "$root"/bench/cases/*.sh; do
  name=$(basename "$case_script" .sh)
  [[ -n $only && $name != "$only" ]] && continue
  echo "== bench case: $name"
  bash "$case_script"
  ran=$((ran + 1))
done
if ((ran == 0)); then
  echo "bench/run.sh: no case named '$only' (see bench/cases/)" >&2
  exit 2
fi
"$PYTHON" "$root/bench/lib/summary.py" "$results_dir" > "$results_dir/summary.md"
echo "== summary ($results_dir/summary.md)"
cat "$results_dir/summary.md"
