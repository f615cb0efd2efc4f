#!/usr/bin/env bash
# forktop frame time and idle CPU from a replay, in a real terminal: build/forktop in a detached
# tmux pane of 250x60, replaying a generated machine (bench/tools/forktop_replay.py) of 1,000 and
# of 10,000 processes with 200 short-lived processes a second (fork, exec, exit; in 10 ms batches
# as the live tracer delivers them), then nothing. Measured, series interleaved round by round:
#   forktop_frame  CPU time of each frame drawn (render, layout, diff, write), from forktop's own
#                  --stats (CLOCK_THREAD_CPUTIME_ID around each frame); target (bench/README.md,
#                  from the TUI work): a frame with 10,000 processes under 5 ms
#   forktop_busy   the whole process's CPU while the churn replays, % of one core (no target)
#   forktop_idle   the whole process's CPU once the replay is done and its last tombstones are
#                  gone (only the once-a-second uptime clock redraws), % of one core; target:
#                  under 2%
# Process CPU is the kernel's per-task run time (/proc/PID/task/*/schedstat, nanoseconds), or
# utime+stime of /proc/PID/stat (10 ms ticks) where schedstat is missing. No baseline: nothing
# else draws the same tree from the same events (top re-reads /proc and shows a flat list), so
# the figures are absolute, and ratios are to the 1,000-process series.
set -euo pipefail
rounds=$((QUICK ? 1 : 3)) busy=$((QUICK ? 2 : 5)) idle=$((QUICK ? 5 : 10))
rate=200 counts=(1000 10000)
root=$(cd "$(dirname "$0")/../.." && pwd)
forktop="$BUILD_DIR/forktop"
work=$(mktemp -d)
socket="shim-bench-forktop-$$"
forktop_pid=""
tmux_() { tmux -L "$socket" -f /dev/null "$@"; }
cleanup() {
  # Only what this script started: the forktop whose pid its pane wrote, and our tmux server
  # (whose socket file outlives it).
  if [[ -n $forktop_pid ]]; then kill -TERM "$forktop_pid" 2>/dev/null || true; fi
  tmux_ kill-server 2>/dev/null || true
  rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$socket"
  rm -rf "$work"
}
trap cleanup EXIT
# Bash runs no EXIT trap when a signal kills it: turn INT and TERM into an exit, so an interrupted
# run leaves no tmux server with a forktop in it behind.
trap 'exit 130' INT
trap 'exit 143' TERM

# CPU nanoseconds used so far by process $1 (all its threads).
cpu_ns() {
  local total=0 f run _
  if [[ -r /proc/$1/schedstat ]]; then
    for f in /proc/"$1"/task/*/schedstat; do
      read -r run _ < "$f" || return 1
      total=$((total + run))
    done
  else
    local stat fields
    stat=$(< "/proc/$1/stat") || return 1
    read -ra fields <<< "${stat##*) }"  # after "pid (comm) ": field 3 (state) is fields[0]
    total=$(((fields[11] + fields[12]) * 1000000000 / $(getconf CLK_TCK)))
  fi
  echo "$total"
}
now_ns() { date +%s%N; }
# Waits (at most $2 seconds) until the pane shows $1.
wait_for() {
  local deadline=$((SECONDS + $2))
  until tmux_ capture-pane -p -t bench 2>/dev/null | grep -qF -- "$1"; do
    if ((SECONDS >= deadline)); then
      echo "forktop.sh: the pane never showed '$1':" >&2
      tmux_ capture-pane -p -t bench >&2 || true
      return 1
    fi
    sleep 0.05
  done
}
# CPU of process $1 over $2 seconds, as a percentage of one core.
cpu_percent() {
  local c0 t0 c1 t1
  # One assignment per line: in `a=$(x) b=$(y)` a failing x would go unnoticed.
  c0=$(cpu_ns "$1")
  t0=$(now_ns)
  sleep "$2"
  c1=$(cpu_ns "$1")
  t1=$(now_ns)
  "$PYTHON" -c "print(f'{100 * ($c1 - $c0) / ($t1 - $t0):.4f}')"
}

# The replays: the churn lasts the busy window plus 1.5 s (busy is whole seconds), so the window,
# which starts at the first frame, ends before the replay does.
for n in "${counts[@]}"; do
  "$PYTHON" "$root/bench/tools/forktop_replay.py" --processes "$n" --rate "$rate" \
    --seconds "$((busy + 1)).5" --out "$work/replay-$n.jsonl"
done

for ((r = 0; r < rounds; r++)); do
  for n in "${counts[@]}"; do
    rm -f "$work/pid" "$work/stats.json"
    # --tombstone 1: the churn's exited processes are gone a second after the replay ends, so the
    # idle window sees nothing change but the clock.
    tmux_ new-session -d -s bench -x 250 -y 60 \
      "echo \$\$ > '$work/pid'; exec env LANG=C.UTF-8 '$forktop' --replay '$work/replay-$n.jsonl' \
--speed 1 --tombstone 1 --stats '$work/stats.json'"
    tmux_ set-option -g window-size manual > /dev/null
    wait_for "spawn " 10
    forktop_pid=$(< "$work/pid")
    size=$(tmux_ display-message -p -t bench '#{pane_width}x#{pane_height}')
    [[ $size == 250x60 ]] || { echo "forktop.sh: pane is $size, not 250x60" >&2; exit 1; }

    cpu_percent "$forktop_pid" "$busy" >> "$work/busy-$n.txt"
    if tmux_ capture-pane -p -t bench | grep -qF "replay done"; then
      echo "forktop.sh: the replay ended inside the busy window (machine overloaded?)" >&2
    fi
    wait_for "replay done" $((busy + 30))
    sleep 1.5  # the last tombstones expire (1 s) and the next clock tick draws that
    cpu_percent "$forktop_pid" "$idle" >> "$work/idle-$n.txt"

    tmux_ send-keys -t bench q
    for ((i = 0; i < 100; i++)); do
      tmux_ has-session -t bench 2>/dev/null || break
      sleep 0.05
    done
    if tmux_ has-session -t bench 2>/dev/null; then
      echo "forktop.sh: forktop did not quit on q" >&2
      exit 1
    fi
    forktop_pid=""
    "$PYTHON" - "$work/stats.json" "$work/frame-$n.txt" "$n" <<'PY'
import json
import sys
stats = json.load(open(sys.argv[1]))
with open(sys.argv[2], "a") as out:
    out.writelines(f"{ns}\n" for ns in stats["frame_cpu_ns"])
print(f"forktop.sh: {sys.argv[3]} processes: {stats['frames']} frames, "
      f"{stats['frame_cpu_ns_total'] / 1e6:.1f} ms drawing, "
      f"{stats['process_cpu_ns'] / 1e6:.1f} ms process CPU in {stats['wall_ns'] / 1e9:.1f} s")
PY
  done
done

for kind in frame busy idle; do
  args=()
  for n in "${counts[@]}"; do args+=(--series "$n processes=$work/$kind-$n.txt"); done
  case $kind in
    frame) extra=(--unit ns --target "10000 processes@median<=5000000") ;;
    busy) extra=(--unit "% of a core") ;;
    idle) extra=(--unit "% of a core" --target "1000 processes@median<=2"
                 --target "10000 processes@median<=2") ;;
  esac
  "$PYTHON" "$REPORT" --name "forktop_$kind" --out "$RESULTS_DIR" --baseline "1000 processes" \
    --command "$BENCH_COMMAND" "${args[@]}" "${extra[@]}"
done
