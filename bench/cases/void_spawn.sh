#!/usr/bin/env bash
# Time to start a trivial static binary and reap it: bare vfork+exec (the baseline), unshare,
# bwrap, and shim-bpf voids when `shim-bpf run` exists.
set -euo pipefail
rounds=$((QUICK ? 5 : 20)) per_round=$((QUICK ? 20 : 50))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trivial="$BUILD_DIR/bench/trivial" timer="$BUILD_DIR/bench/spawn_timer"

series=(
  "vfork+exec|$trivial"
  "unshare -Urnpm|unshare -Urnpm --fork $trivial"
  "bwrap --unshare-all|bwrap --unshare-all --ro-bind $trivial /trivial /trivial"
)
if "$BUILD_DIR/shim-bpf" --help 2>/dev/null | grep -qE "^  run( |$)"; then
  cat > "$work/spec.json" <<SPEC
{"binary": "$trivial", "entrypoints": {"main": {"args": ["BinaryName"]}}}
SPEC
  series+=("shim-bpf run (cold)|$BUILD_DIR/shim-bpf run $work/spec.json")
fi

for ((r = 0; r < rounds; r++)); do
  for s in "${series[@]}"; do
    label=${s%%|*} cmd=${s#*|}
    # shellcheck disable=SC2086
    "$timer" "$per_round" $cmd >> "$work/${label//[^A-Za-z0-9]/_}.txt"
  done
done

args=()
for s in "${series[@]}"; do
  label=${s%%|*}
  args+=(--series "$label=$work/${label//[^A-Za-z0-9]/_}.txt")
done
targets=()
[[ " ${series[*]} " == *"shim-bpf run (cold)"* ]] && targets+=(--target "shim-bpf run (cold)/bwrap --unshare-all<=1.5")
"$PYTHON" "$REPORT" --name void_spawn --out "$RESULTS_DIR" --baseline "vfork+exec" --unit ns \
  --command "$BENCH_COMMAND" "${args[@]}" "${targets[@]}"
