#!/usr/bin/env bash
# New-connection rate and round-trip latency of the echo example under `shim-bpf run` (every
# connection handled by a fresh void) against socat's fork+exec per connection (no isolation),
# with the same client (bench/tools/echo_client: 64 bytes each, CONCURRENCY at a time), rounds
# interleaved. Targets (issue 5): at least 0.8x socat's rate, at least 2,000 connections/s, p99
# latency under 5 ms (one connection at a time; the latency under load is reported beside it).
set -euo pipefail
rounds=$((QUICK ? 3 : 10)) per_round=$((QUICK ? 300 : 2000)) concurrency=16
single_per_round=$((QUICK ? 100 : 300))
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
client="$BUILD_DIR/bench/echo_client"
free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_variant NAME PORT [SED_EXPR...]: the echo example's spec listening on PORT, edited by the
# sed expressions, run under shim-bpf in the background. SPEC (default spec.json) picks the
# example's spec file.
start_variant() {
  local name=$1 port=$2 spec=${SPEC:-spec.json}
  shift 2
  local edits=(-e "s/127.0.0.1:8080/127.0.0.1:$port/"
               -e "s|\"binary\": \"echo\"|\"binary\": \"$BUILD_DIR/examples/echo/echo\"|")
  for expr in "$@"; do edits+=(-e "$expr"); done
  sed "${edits[@]}" "$BUILD_DIR/examples/echo/$spec" > "$work/$name.json"
  "$BUILD_DIR/shim-bpf" run -q "$work/$name.json" --grace 1s > "$work/$name.log" 2>&1 &
  pids+=($!)
}
shim_port=$(free_port)
start_variant echo "$shim_port"
# The same without the handlers' memory and pids limits: on a hybrid host each limit is a v1
# cgroup the new void must join, which costs it an RCU grace period; this series shows that cost.
bare_port=$(free_port)
start_variant echo-bare "$bare_port" 's/"limits": {"memory": "64M", "pids": 4, /"limits": {/'
# The same with the handler built as a dynamic executable (the example links statically): what
# the dynamic loader costs a void started per connection.
dyn_port=$(free_port)
start_variant echo-dynamic "$dyn_port" "s|$BUILD_DIR/examples/echo/echo|$BUILD_DIR/bench/echo_dynamic|"
# The same handlers with the supervisor accepting the connections itself (a TcpListener
# trigger, spec_builtin_listener.json) instead of the listener void of libshim_app.
builtin_port=$(free_port)
SPEC=spec_builtin_listener.json start_variant echo-builtin "$builtin_port"
socat_port=$(free_port)
socat "TCP-LISTEN:$socat_port,bind=127.0.0.1,fork,reuseaddr,backlog=1024" EXEC:/bin/cat &
pids+=($!)

# Every server answers before anything is measured (at most 10 s each).
for port in "$shim_port" "$bare_port" "$dyn_port" "$builtin_port" "$socat_port"; do
  for ((i = 0; i < 100; i++)); do
    "$client" "$port" 1 1 /dev/null > /dev/null 2>&1 && break
    sleep 0.1
  done
done

# Each round measures the rate with CONCURRENCY clients (saturation; their latencies are mostly
# queueing: by Little's law, concurrency / rate) and then the latency of one connection at a time
# (what a connection itself costs when the server is not saturated), which the p99 target judges.
series=("socat fork+exec|$socat_port" "shim-bpf void per connection|$shim_port"
        "shim-bpf, no v1 limits|$bare_port" "shim-bpf, dynamic handler|$dyn_port"
        "shim-bpf, built-in listener|$builtin_port")
for ((r = 0; r < rounds; r++)); do
  for s in "${series[@]}"; do
    label=${s%%|*} port=${s#*|} file=${label//[^A-Za-z0-9]/_}
    "$client" "$port" "$per_round" "$concurrency" "$work/$file.loaded" >> "$work/$file.rate"
    "$client" "$port" "$single_per_round" 1 "$work/$file.latency" > /dev/null
  done
done

rate_args=() latency_args=() loaded_args=()
for s in "${series[@]}"; do
  label=${s%%|*} file=${label//[^A-Za-z0-9]/_}
  rate_args+=(--series "$label=$work/$file.rate")
  latency_args+=(--series "$label=$work/$file.latency")
  loaded_args+=(--series "$label=$work/$file.loaded")
done
shim="shim-bpf void per connection"
"$PYTHON" "$REPORT" --name echo_rate --out "$RESULTS_DIR" --baseline "socat fork+exec" \
  --unit "connections/s" --higher-is-better --command "$BENCH_COMMAND" "${rate_args[@]}" \
  --target "$shim>=0.8" --target "$shim@median>=2000" \
  --target "shim-bpf, built-in listener/$shim>=1.0"
"$PYTHON" "$REPORT" --name echo_latency --out "$RESULTS_DIR" --baseline "socat fork+exec" \
  --unit ns --command "$BENCH_COMMAND" "${latency_args[@]}" --target "$shim@p99<=5000000"
"$PYTHON" "$REPORT" --name echo_latency_loaded --out "$RESULTS_DIR" --baseline "socat fork+exec" \
  --unit ns --command "$BENCH_COMMAND" "${loaded_args[@]}"
