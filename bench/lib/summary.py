#!/usr/bin/env python3
"""Prints the markdown results table of every bench/results/*.json: figure, baseline, ratio,
target, met. Generated, so nothing in bench/README.md is a number typed by hand."""
import glob
import json
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "bench/results"


def shown(value):
    # Whole numbers for times and rates; three significant digits for small figures (a
    # percentage of a core), which would otherwise all print as 0.
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


rows = []
micro = []
machine = None
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    with open(path) as f:
        r = json.load(f)
    if "benchmarks" in r:  # Google Benchmark's own format (bench/cases/micro.sh)
        for b in r["benchmarks"]:
            micro.append(f"| {b['name']} | {shown(b['real_time'])} {b['time_unit']} | "
                         f"{b['iterations']} |")
        continue
    machine = machine or r["machine"]

    def verdict(t):
        # A p99 or median target is judged in the series unit, the others on a ratio.
        absolute = "@p99" in t["target"] or "@median" in t["target"]
        figure = shown(t["value"]) if absolute else f"x{t['value']:.2f}"
        return f"yes ({figure})" if t["met"] else f"**no** ({figure})"
    for s in r["series"]:
        # A series may have several targets (e.g. vs the baseline and vs a rival): one row each.
        ts = [t for t in r["targets"] if t["series"] == s["label"]] or [None]
        for t in ts:
            rows.append(
                f"| {r['name']} | {s['label']} | {shown(s['median'])} {r['unit']} | "
                f"{shown(s['p99'])} | "
                f"{r['baseline']} | x{s['ratio_to_baseline']:.2f} | "
                f"{t['target'] if t else ''} | "
                f"{verdict(t) if t else ''} |")
print("| case | series | median | p99 | baseline | ratio | target | met? |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
print("\n".join(rows))
if micro:
    print("\n| micro-benchmark | time per operation | iterations |")
    print("| --- | --- | --- |")
    print("\n".join(micro))
if machine:
    print(f"\nMachine: {machine['cpu_model']}, {machine['cores']} cores, "
          f"{machine['memory_gib']} GiB, Linux {machine['kernel']}.")
