#!/usr/bin/env bash
# Cost of the network policy per judged operation: TCP connect()+close() and UDP sendto() over
# loopback with no policy, empty programs on the same hooks (the floor of any cgroup-hook policy),
# shim-bpf's eBPF policy with 1, 100 and 10,000 rules, and the same 10,000 rules as an nftables
# set (the usual alternative). Runs in a private network namespace.
# Needs root (BPF, cgroups, netns).
set -euo pipefail
rounds=$((QUICK ? 5 : 20)) connects=$((QUICK ? 500 : 2000)) sends=$((QUICK ? 5000 : 20000))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$BUILD_DIR/bench/net_policy_bench" "$work" "$rounds" "$connects" "$sends"

labels=("no_policy=no policy" "empty_programs=empty programs" "bpf_1=shim-bpf 1 rule"
        "bpf_100=shim-bpf 100 rules" "bpf_10000=shim-bpf 10000 rules"
        "nft_10000=nftables 10000 rules")
for op in connect sendto; do
  args=()
  for entry in "${labels[@]}"; do
    args+=(--series "${entry#*=}=$work/${op}_${entry%%=*}.txt")
  done
  "$PYTHON" "$REPORT" --name "net_policy_$op" --out "$RESULTS_DIR" --baseline "no policy" \
    --unit ns --command "$BENCH_COMMAND" "${args[@]}" \
    --target "shim-bpf 10000 rules<=1.03" --target "shim-bpf 10000 rules/nftables 10000 rules<=1.0"
done
