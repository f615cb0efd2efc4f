#!/usr/bin/env bash
# A/B of two builds of shim-bpf in one run, for "does this change regress the void?": a cold
# `shim-bpf run` of a one-entrypoint spec and a warm void (bench/tools/void_warm_timer) of each
# build, interleaved round by round so the machine's noise falls on both alike. Ratios are the
# new build's medians over the old one's.
#
#   bench/ab.sh OLD_BUILD_DIR [NEW_BUILD_DIR] [ROUNDS]
#
# Each build dir needs shim-bpf, bench/spawn_timer, bench/trivial and bench/void_warm_timer
# (`cmake --build DIR --target shim-bpf spawn_timer trivial void_warm_timer`). Needs root.
# Writes bench/results/ab_cold.json and ab_warm.json (and their plots) and prints both tables.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
old=$(cd "${1:?usage: bench/ab.sh OLD_BUILD_DIR [NEW_BUILD_DIR] [ROUNDS]}" && pwd)
new=$(cd "${2:-$root/build}" && pwd)
rounds=${3:-20} per_round=50
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trivial="$new/bench/trivial" timer="$new/bench/spawn_timer"
cat > "$work/spec.json" <<SPEC
{"binary": "$trivial", "entrypoints": {"main": {"args": ["BinaryName"]}}}
SPEC
for ((r = 0; r < rounds; r++)); do
  for side in old new; do
    dir=${!side}
    "$timer" "$per_round" "$dir/shim-bpf" run -q "$work/spec.json" >> "$work/cold_$side.txt"
    "$dir/bench/void_warm_timer" "$per_round" "$trivial" >> "$work/warm_$side.txt"
  done
done
results="$root/bench/results"
command="bench/ab.sh $* (old: $old, new: $new)"
for kind in cold warm; do
  /usr/bin/python3 "$root/bench/lib/report.py" --name "ab_$kind" --out "$results" \
    --baseline "old $kind" --unit ns --command "$command" \
    --series "old $kind=$work/${kind}_old.txt" --series "new $kind=$work/${kind}_new.txt" \
    --target "new $kind<=1.03"
done
/usr/bin/python3 - "$results" <<'PY'
import json, sys
for kind in ("cold", "warm"):
    r = json.load(open(f"{sys.argv[1]}/ab_{kind}.json"))
    for s in r["series"]:
        print(f'{s["label"]:>10}: median {s["median"]:.0f} ns, p99 {s["p99"]:.0f}, ratio x{s["ratio_to_baseline"]:.3f}')
PY
