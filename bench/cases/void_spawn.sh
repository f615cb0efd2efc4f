#!/usr/bin/env bash
# Time to start a trivial static binary and reap it: bare vfork+exec (the baseline), unshare,
# bwrap, firejail, and shim-bpf voids when `shim-bpf run` exists.
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
# firejail (Debian's, installed by setup.sh): no profile, no network, its own IPC namespace, on
# top of what it always does (mount and pid namespaces, a seccomp filter, capabilities dropped).
if command -v firejail > /dev/null; then
  series+=("firejail|firejail --quiet --noprofile --net=none --ipc-namespace $trivial")
fi
if "$BUILD_DIR/shim-bpf" --help 2>/dev/null | grep -qE "^  run( |$)"; then
  cat > "$work/spec.json" <<SPEC
{"binary": "$trivial", "entrypoints": {"main": {"args": ["BinaryName"]}}}
SPEC
  series+=("shim-bpf run (cold)|$BUILD_DIR/shim-bpf run $work/spec.json")
fi

# Warm voids: the n-th instance of one prepared entrypoint (the trigger path), timed in-process.
warm_timer="$BUILD_DIR/bench/void_warm_timer"
if [[ -x $warm_timer ]] && "$warm_timer" 1 "$trivial" > /dev/null; then
  series+=("shim-bpf void (warm)|WARM")
fi

for ((r = 0; r < rounds; r++)); do
  for s in "${series[@]}"; do
    label=${s%%|*} cmd=${s#*|}
    if [[ $cmd == WARM ]]; then
      "$warm_timer" "$per_round" "$trivial" >> "$work/${label//[^A-Za-z0-9]/_}.txt"
      continue
    fi
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
if [[ " ${series[*]} " == *"shim-bpf void (warm)"* ]]; then
  targets+=(--target "shim-bpf void (warm)/vfork+exec<=1.5")
  targets+=(--target "shim-bpf void (warm)/bwrap --unshare-all<=0.5")
fi
"$PYTHON" "$REPORT" --name void_spawn --out "$RESULTS_DIR" --baseline "vfork+exec" --unit ns \
  --command "$BENCH_COMMAND" "${args[@]}" "${targets[@]}"
