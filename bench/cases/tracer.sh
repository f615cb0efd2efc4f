#!/usr/bin/env bash
# Spawn rate (vfork+exec+reap of a trivial static binary) with no tracer, with ours (trace_sink:
# the whole machine traced, events decoded and dropped, a 10 ms consume tick) and with
# libbpf-tools' execsnoop (a perf buffer that wakes its reader per event), as ratios. Each round
# starts the tracer fresh, waits until it is attached, times the spawns, then stops it.
set -euo pipefail
rounds=$((QUICK ? 5 : 20)) per_round=$((QUICK ? 100 : 400))
work=$(mktemp -d)
tracer_pid=""
cleanup() {
  [[ -n $tracer_pid ]] && kill "$tracer_pid" 2>/dev/null && wait "$tracer_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trivial="$BUILD_DIR/bench/trivial" timer="$BUILD_DIR/bench/spawn_timer"
sink="$BUILD_DIR/bench/trace_sink"
execsnoop=$(command -v execsnoop || echo /usr/sbin/execsnoop)

series=("no tracer|" "shim-bpf tracer|$sink")
if [[ -x $execsnoop ]]; then
  # execsnoop attaches to a syscall tracepoint, whose id libbpf reads from tracefs. Where tracefs
  # is not mounted (this machine), mount it in a private mount namespace of execsnoop's own:
  # the host's mounts stay as they were. unshare and sh exec, so the pid stays execsnoop's.
  if [[ ! -d /sys/kernel/tracing/events && ! -d /sys/kernel/debug/tracing/events ]]; then
    mount_then="mount -t tracefs nodev /sys/kernel/tracing && exec $execsnoop"
    execsnoop="unshare --mount --propagation private sh -c '$mount_then'"
  fi
  series+=("execsnoop|$execsnoop")
fi

# Starts `$1` in the background and waits (at most 10 s) until its output says it is attached:
# trace_sink prints "ready"; execsnoop prints its column header.
start_tracer() {
  "$@" > "$work/tracer.out" 2>&1 &
  tracer_pid=$!
  for ((i = 0; i < 1000; i++)); do
    grep -qE "^(ready|PCOMM)" "$work/tracer.out" 2>/dev/null && return 0
    kill -0 "$tracer_pid" 2>/dev/null || break
    sleep 0.01
  done
  echo "tracer.sh: $1 did not attach:" >&2
  cat "$work/tracer.out" >&2
  exit 1
}

stop_tracer() {
  kill -INT "$tracer_pid"
  wait "$tracer_pid" || true
  tracer_pid=""
}

for ((r = 0; r < rounds; r++)); do
  for s in "${series[@]}"; do
    label=${s%%|*} cmd=${s#*|}
    # shellcheck disable=SC2086
    [[ -n $cmd ]] && eval start_tracer "$cmd"
    "$timer" "$per_round" "$trivial" >> "$work/${label//[^A-Za-z0-9]/_}.txt"
    if [[ -n $cmd ]]; then
      stop_tracer
      # Our tracer must not have dropped anything at this rate.
      if [[ $label == "shim-bpf tracer" ]] && ! grep -q "lost 0$" "$work/tracer.out"; then
        echo "tracer.sh: events were lost: $(tail -1 "$work/tracer.out")" >&2
      fi
    fi
  done
done

args=()
for s in "${series[@]}"; do
  label=${s%%|*}
  args+=(--series "$label=$work/${label//[^A-Za-z0-9]/_}.txt")
done
"$PYTHON" "$REPORT" --name tracer --out "$RESULTS_DIR" --baseline "no tracer" --unit ns \
  --command "$BENCH_COMMAND" "${args[@]}" --target "shim-bpf tracer<=1.03"
