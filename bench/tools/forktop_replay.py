#!/usr/bin/env python3
"""Writes a forktop replay file (JSON Lines, the --record/--replay format of
userspace/trace/process_event.h) for bench/cases/forktop.sh: a machine of N processes (snapshot
events) followed by SECONDS of churn at RATE short-lived processes a second (fork, exec, exit).

  forktop_replay.py --processes 10000 --seconds 4 --rate 200 --out FILE [--seed 8]

Deterministic for a given seed. The churn's timestamps are rounded up to 10 ms, so the replay
delivers events in 10 ms batches, as the live tracer does (it drains its ring buffer every 10 ms);
otherwise the replay would wake forktop once per event, which live mode never does."""
import argparse
import json
import random

NAMES = ["nginx", "postgres", "python3", "node", "java", "bash", "sshd", "cron", "redis-server",
         "gunicorn", "worker", "containerd-shim", "make", "rsyslogd", "dbus-daemon"]
CHURN = [("sh", ["sh", "-c", "test -f /run/health"]), ("cc1", ["cc1", "-O2", "parser.c"]),
         ("git", ["git", "status", "--porcelain"]), ("curl", ["curl", "-s", "localhost:8080"]),
         ("sleep", ["sleep", "0.1"]), ("ls", ["ls", "-la", "/srv/data"])]
SEC = 1_000_000_000
BATCH_NS = 10_000_000


def line(**fields):
    return json.dumps(fields, separators=(",", ":"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--processes", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--rate", type=float, required=True, help="new processes a second")
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    base = 100_000 * SEC  # the churn's first instant; snapshot processes started before it

    out = [line(event="snapshot", ts_ns=base - 7200 * SEC, pid=1, tgid=1, ppid=0, comm="systemd",
                filename="/usr/lib/systemd/systemd", argv=["/sbin/init"])]
    # A service per ~100 processes under init, the rest below a service or below another process
    # (depth grows like a random recursive tree: a few levels, as on a real host).
    services = list(range(2, 2 + max(5, args.processes // 100)))
    others = []
    for pid in range(2, args.processes + 1):
        if pid <= services[-1]:
            ppid = 1
        elif others and rng.random() < 0.3:
            ppid = rng.choice(others)
        else:
            ppid = rng.choice(services)
        if ppid != 1:
            others.append(pid)
        name = NAMES[pid % len(NAMES)]
        out.append(line(event="snapshot", ts_ns=base - rng.randint(1, 7000) * SEC, pid=pid,
                        tgid=pid, ppid=ppid, comm=name, filename=f"/usr/bin/{name}",
                        argv=[name, "--worker", str(pid)]))

    # Churn: fork (the parent's name), exec 1 ms later, exit after 50-500 ms; everything ends
    # within the churn period, so the replay is finished after SECONDS.
    end = base + int(args.seconds * SEC)
    churn = []  # (batch ts, exact ts, sequence, line)
    seq = 0

    def add(ts, text):
        nonlocal seq
        batch = base + -(-(ts - base) // BATCH_NS) * BATCH_NS  # rounded up to the next 10 ms
        churn.append((min(batch, end), ts, seq, text))
        seq += 1

    next_pid = args.processes + 1000
    for k in range(int(args.rate * args.seconds)):
        start = base + int(k * SEC / args.rate) + rng.randint(0, int(SEC / args.rate))
        if start >= end:
            break
        ppid = rng.choice(services if rng.random() < 0.7 else others or services)
        pid = next_pid
        next_pid += 1
        comm, argv = CHURN[k % len(CHURN)]
        add(start, line(event="fork", ts_ns=start, pid=pid, tgid=pid, ppid=ppid,
                        comm=NAMES[ppid % len(NAMES)] if ppid != 1 else "systemd"))
        add(start + 1_000_000, line(event="exec", ts_ns=start + 1_000_000, pid=pid, tgid=pid,
                                    ppid=ppid, comm=comm, filename=f"/usr/bin/{comm}", argv=argv))
        stop = min(end, start + rng.randint(50, 500) * 1_000_000)
        code = 1 if rng.random() < 0.05 else 0
        add(stop, line(event="exit", ts_ns=stop, pid=pid, tgid=pid, ppid=ppid, comm=comm,
                       exit_code=code, exit_signal=0))
    churn.sort()
    # The released timestamp is the batch's: forktop sees the batch at once, as in live mode.
    for batch, _, _, text in churn:
        event = json.loads(text)
        event["ts_ns"] = batch
        out.append(json.dumps(event, separators=(",", ":")))
    with open(args.out, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
