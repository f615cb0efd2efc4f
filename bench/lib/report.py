#!/usr/bin/env python3
"""Turns raw samples of one comparison into bench/results/<name>.json and <name>.svg.

  report.py --name NAME --out DIR --baseline LABEL --unit ns \
            --series LABEL=FILE [--series ...] \
            [--target 'LABEL<=1.5' ...] [--higher-is-better] [--command '...']

Each FILE holds one sample a line. Ratios are of medians, LABEL over the baseline: for times a
ratio below 1 is faster than the baseline; with --higher-is-better (rates) above 1 is better.
A target 'LABEL<=X' or 'LABEL>=X' is judged on that ratio; 'LABEL@p99<=X' on LABEL's p99 and
'LABEL@median>=X' on its median, in the series unit; 'LABEL/OTHER<=X' on the ratio of two series'
medians. Nothing here asserts: the result says met or not met."""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import sys


def machine_facts():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kib = 0
    try:
        with open("/proc/meminfo") as f:
            mem_kib = int(f.readline().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return {"kernel": platform.release(), "cores": os.cpu_count(), "cpu_model": cpu,
            "memory_gib": round(mem_kib / 1024 / 1024, 1)}


def percentile(values, p):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(p / 100.0 * (len(ordered) - 1)))))
    return ordered[index]


def shown(value):
    # As summary.py shows it: whole numbers, but three significant digits for small figures.
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def load_samples(path):
    with open(path) as f:
        return [float(line) for line in f if line.strip()]


def judge(target, series_by_label, baseline_median, higher_is_better):
    m = re.fullmatch(r"(.+?)(?:/(.+?))?(@p99|@median)?(<=|>=)([0-9.]+)", target)
    if not m:
        sys.exit(f"report.py: bad target {target!r}; want LABEL<=X, LABEL/OTHER<=X, "
                 "LABEL@p99<=X or LABEL@median>=X (absolute, in the series' unit)")
    label, other, p99, op, limit = m.group(1), m.group(2), m.group(3), m.group(4), float(m.group(5))
    for name in filter(None, (label, other)):
        if name not in series_by_label:
            sys.exit(f"report.py: target names unknown series {name!r}")
    s = series_by_label[label]
    if p99 == "@p99":
        value, kind = s["p99"], "p99"
    elif p99 == "@median":
        value, kind = s["median"], "median"
    elif other:
        value, kind = s["median"] / series_by_label[other]["median"], f"ratio to {other}"
    else:
        value, kind = s["ratio_to_baseline"], "ratio"
    met = value <= limit if op == "<=" else value >= limit
    return {"target": target, "series": label, "measure": kind, "value": round(value, 4),
            "met": met}


def plot(result, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("report.py: matplotlib missing, no plot", file=sys.stderr)
        return
    labels = [s["label"] for s in result["series"]]
    scale, unit = (1e6, "ms") if result["unit"] == "ns" else (1, result["unit"])
    data = [[v / scale for v in s["samples"]] for s in result["series"]]
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(labels)), 4))
    ax.boxplot(data, labels=labels, showfliers=False)
    ax.set_ylabel(unit)
    ax.set_title(f"{result['name']} (baseline: {result['baseline']}; whiskers 1.5 IQR)")
    for i, s in enumerate(result["series"], start=1):
        ax.annotate(f"x{s['ratio_to_baseline']:.2f}", (i, s["median"] / scale), textcoords="offset points",
                    xytext=(18, 0), fontsize=8)
    plt.setp(ax.get_xticklabels(), rotation=15, ha="right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--unit", default="ns")
    ap.add_argument("--series", action="append", required=True)
    ap.add_argument("--target", action="append", default=[])
    ap.add_argument("--higher-is-better", action="store_true")
    ap.add_argument("--command", default="")
    args = ap.parse_args()

    series = []
    for spec in args.series:
        label, _, path = spec.partition("=")
        samples = load_samples(path)
        if not samples:
            sys.exit(f"report.py: series {label!r} has no samples ({path})")
        series.append({"label": label, "samples": samples, "count": len(samples),
                       "median": statistics.median(samples), "p99": percentile(samples, 99)})
    by_label = {s["label"]: s for s in series}
    if args.baseline not in by_label:
        sys.exit(f"report.py: baseline {args.baseline!r} is not a series")
    base = by_label[args.baseline]["median"]
    for s in series:
        s["ratio_to_baseline"] = round(s["median"] / base, 4)
    result = {
        "name": args.name, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "command": args.command, "machine": machine_facts(), "unit": args.unit,
        "baseline": args.baseline, "higher_is_better": args.higher_is_better, "series": series,
        "targets": [judge(t, by_label, base, args.higher_is_better) for t in args.target],
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"{args.name}.json"), "w") as f:
        json.dump(result, f, indent=1)
    plot(result, os.path.join(args.out, f"{args.name}.svg"))
    for s in series:
        print(f"{args.name}: {s['label']:<28} median {shown(s['median']):>12} {args.unit}  "
              f"p99 {shown(s['p99']):>12}  x{s['ratio_to_baseline']:.2f}")
    for t in result["targets"]:
        print(f"{args.name}: target {t['target']:<30} {t['measure']} {t['value']}  "
              f"{'met' if t['met'] else 'NOT MET'}")


if __name__ == "__main__":
    main()
