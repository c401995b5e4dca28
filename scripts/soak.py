#!/usr/bin/env python3
"""Soak run (issue 8): labelwatchd watching a large simulated project under random faults
for a bounded time, sampling its resident memory and open file descriptors.

    scripts/soak.py [--duration 30m] [--tasks 2000] [--warmup 5m] [--sample 15s]
                    [--fault-every 15s] [--build-dir build] [--result tests/soak/RESULTS.md]
                    [--seed N]

The run: labelwatch-sim with builtin:scale (half auto-labeling, half team-labeling
tasks over 20 datasets; their lifecycles play out over the first ~15 minutes), watched
through discovery every 60 s, polled every 5 s (active), 10 s (idle) and 20 s (terminal)
with a 5 s request timeout. Every 15 s (--fault-every) a fault is armed for a while
(throttling, 5xx, delays, hangs, closed and reset connections, truncated, malformed,
oversized and invalid-UTF-8 bodies, numbers as strings, unknown statuses, missing and
extra fields): each of the 18 entries of the menu once during the warm-up, so the
process reaches the memory high-water marks of every path (the largest body it has
read, say) before the measurement starts, then at random. Every 10 s a few random tasks
change status or progress (so transitions, store writes and events continue after the
scenario's lifecycles end), every sample scrapes /metrics, /api/v1/tasks,
/api/v1/events and the status page, and the daemon gets a SIGHUP (reload with the same
file) half-way through the warm-up and then every 5 minutes.

Each sample records VmRSS and the number of open descriptors of labelwatchd
(/proc/PID/status, /proc/PID/fd). The verdict compares the first third of the samples
after the warm-up with the last third: the mean RSS may grow by less than 10%, and the
maximum descriptor count of the last third may exceed the maximum of every earlier sample
(warm-up included: descriptors come and go with the connection pool) by less than 10%.
The daemon must also stay up and stop cleanly (exit 0) at the end. Exit status 0 on
PASS, 1 on FAIL; --result writes a Markdown report.
"""

import argparse
import datetime
import json
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import harness  # noqa: E402

GROWTH_LIMIT = 0.10


def duration(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(s|m|h)?", text)
    if not m:
        raise argparse.ArgumentTypeError(f"expected a duration like 30m, got {text!r}")
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def fault_menu(rng, task_ids):
    """Every kind of fault the run arms, scoped so the simulator's own cost stays bounded."""
    task = rng.choice(task_ids)
    window = f"{rng.randint(5, 15)}s"
    menu = [
        {"kind": "throttle", "endpoint": "any", "for": window, "retry_after": 1},
        {"kind": "error", "endpoint": "any", "status": 503, "for": window},
        {"kind": "error", "endpoint": "auto_task", "status": 500, "for": window},
        {"kind": "error", "endpoint": "workforce_task_list", "status": 502, "for": window},
        {"kind": "delay", "endpoint": "workforce_task", "delay": "3s", "for": window},
        {"kind": "hang", "task_id": task["id"], "endpoint": task["endpoint"], "count": 3},
        {"kind": "close", "endpoint": "any", "count": 50},
        {"kind": "reset", "endpoint": "any", "count": 50},
        {"kind": "truncated_json", "endpoint": "auto_task", "count": 30},
        {"kind": "malformed_json", "endpoint": "workforce_task", "count": 30},
        {"kind": "oversized", "task_id": task["id"], "endpoint": task["endpoint"], "count": 2},
        {"kind": "oversized", "task_id": task["id"], "endpoint": task["endpoint"],
         "bytes": 2 * 1024 * 1024, "count": 3},
        {"kind": "invalid_utf8", "endpoint": "any", "count": 30},
        {"kind": "numbers_as_strings", "endpoint": "any", "for": window},
        {"kind": "unknown_status", "task_id": task["id"], "endpoint": task["endpoint"],
         "for": "20s"},
        {"kind": "missing_optional", "endpoint": "any", "for": window},
        {"kind": "extra_fields", "endpoint": "any", "for": window},
        {"kind": "error", "endpoint": "auto_task_list", "status": 503, "count": 5},
    ]
    return menu


def churn(sim, rng, tasks, n=5):
    """Moves a few random tasks (status or progress), so the run keeps producing
    transitions, store writes and events after the scenario's lifecycles end."""
    for t in rng.sample(tasks, n):
        if t["kind"] == "auto":
            patch = rng.choice([{"status": 1, "progress": rng.uniform(0, 99)},
                                {"status": 3, "progress": 100.0},
                                {"progress": rng.uniform(0, 99)}])
        else:
            patch = {"status": rng.choice([0, 1, 2, 6])}
        sim.patch_task(t["id"], patch)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=duration, default=duration("30m"))
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--warmup", type=duration, default=duration("5m"))
    ap.add_argument("--sample", type=duration, default=duration("15s"))
    ap.add_argument("--fault-every", type=duration, default=duration("15s"))
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--build-dir", default=os.environ.get("LABELWATCH_BUILD_DIR",
                                                          os.path.join(ROOT, "build")))
    ap.add_argument("--result", default=None, help="write a Markdown report here")
    args = ap.parse_args()
    if args.warmup >= args.duration:
        ap.error("--warmup must be shorter than --duration")
    if args.fault_every * len(fault_menu(random.Random(0), [{"id": "x", "endpoint": "any"}])) \
            > args.warmup:
        ap.error("the warm-up must see every kind of fault once: raise --warmup or lower "
                 "--fault-every")
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    os.environ.setdefault("LABELWATCH_BIN_DIR", os.path.join(os.path.abspath(args.build_dir),
                                                             "daemon"))

    work = tempfile.mkdtemp(prefix="lw-soak-")
    autos = args.tasks // 2
    teams = args.tasks - autos
    sim = harness.Sim.start(None, scenario=f"builtin:scale?auto={autos}&workforce={teams}"
                                           f"&datasets=20&seed={seed % 1000}")
    view = sim.view()
    datasets = [ds["dataset_id"] for ds in view["datasets"]]
    tasks = []
    for ds in view["datasets"]:
        for t in ds.get("auto_tasks", []):
            tasks.append({"id": t["task_id"], "kind": "auto", "endpoint": "auto_task"})
        for t in ds.get("workforce_tasks", []):
            tasks.append({"id": t["task_id"], "kind": "workforce", "endpoint": "workforce_task"})
    watches = [{"dataset_id": ds, "discover": True, "discover_interval": "60s"} for ds in datasets]
    poll = {"active_interval": "5s", "idle_interval": "10s", "terminal_interval": "20s",
            "request_timeout": "5s", "max_in_flight": 16, "max_rate": 500.0}
    daemon_dir = os.path.join(work, "daemon")
    os.makedirs(daemon_dir)
    d = harness.Daemon.start(None, sim, watches, poll=poll, workdir=daemon_dir)
    pid = d.process.pid

    samples = []
    failures = []
    faults_armed = 0
    reloads = 0
    start = time.monotonic()
    next_sample = start
    next_fault = start + args.fault_every
    next_churn = start + 10
    next_reload = start + args.warmup / 2
    try:
        while time.monotonic() - start < args.duration:
            now = time.monotonic()
            if not d.process.alive():
                failures.append(f"labelwatchd exited with {d.process.proc.returncode}:\n"
                                f"{d.process.log_tail()}")
                break
            if now >= next_fault:
                # Each kind once first (during the warm-up), then at random.
                menu = fault_menu(rng, tasks)
                spec = menu[faults_armed] if faults_armed < len(menu) else rng.choice(menu)
                sim.arm_fault(**spec)
                faults_armed += 1
                next_fault += args.fault_every
            if now >= next_churn:
                churn(sim, rng, tasks)
                next_churn += 10
            if now >= next_reload:
                d.process.proc.send_signal(signal.SIGHUP)
                reloads += 1
                next_reload += 300
            if now >= next_sample:
                for path in ("/metrics", "/api/v1/tasks", "/api/v1/events?limit=100", "/"):
                    r = d.get(path)
                    if r.status != 200:
                        failures.append(f"{path} answered {r.status} at {now - start:.0f}s")
                samples.append({"t": now - start, "rss_kib": rss_kib(pid), "fds": open_fds(pid),
                                "requests": sim.last_seq()})
                print(f"{samples[-1]['t']:7.0f}s  rss {samples[-1]['rss_kib'] / 1024:7.1f} MiB  "
                      f"fds {samples[-1]['fds']:4d}  sim requests {samples[-1]['requests']}",
                      flush=True)
                next_sample += args.sample
            time.sleep(0.2)  # the run's pacing, not synchronisation
        sim.clear_faults()
        events = len(d.events())
        transitions = len(d.events("task_status_changed"))
        api_errors = len(d.events("api_error"))
        code = d.stop(30) if d.process.alive() else d.process.proc.returncode
        if code != 0:
            failures.append(f"SIGTERM at the end: exit {code}:\n{d.process.log_tail()}")
        total_requests = sim.last_seq()
        sim.stop()
    finally:
        if d.process is not None and d.process.alive():
            d.process.kill()
        if sim.process.alive():
            sim.process.kill()
        harness._rmtree(work)  # noqa: SLF001

    after = [s for s in samples if s["t"] >= args.warmup]
    verdict = {}
    if len(after) >= 3:
        third = max(1, len(after) // 3)
        first, last = after[:third], after[-third:]
        rss0 = statistics.mean(s["rss_kib"] for s in first)
        rss1 = statistics.mean(s["rss_kib"] for s in last)
        # Descriptors come and go with the connection pool (up to max_in_flight idle
        # connections): a leak shows as the last third rising above every earlier peak.
        fd0 = max(s["fds"] for s in samples[:len(samples) - third])
        fd1 = max(s["fds"] for s in last)
        verdict = {"rss_growth": (rss1 - rss0) / rss0, "fd_growth": (fd1 - fd0) / fd0,
                   "rss0": rss0, "rss1": rss1, "fd0": fd0, "fd1": fd1}
        if verdict["rss_growth"] >= GROWTH_LIMIT:
            failures.append(f"RSS grew {verdict['rss_growth']:.1%} after the warm-up")
        if verdict["fd_growth"] >= GROWTH_LIMIT:
            failures.append(f"open descriptors grew {verdict['fd_growth']:.1%} after the warm-up")
    else:
        failures.append("fewer than 3 samples after the warm-up")

    lines = [
        f"## Soak {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}Z (seed {seed})",
        "",
        f"- {args.duration / 60:.0f} min, {args.tasks} tasks ({autos} auto, {teams} team) in "
        f"20 datasets, warm-up {args.warmup / 60:.1f} min, a sample every {args.sample:.0f} s; "
        f"build `{os.path.abspath(args.build_dir)}`",
        f"- {faults_armed} random faults armed, {reloads} SIGHUP reloads; the simulator answered "
        f"{total_requests} requests; the daemon logged {events} events ({transitions} "
        f"transitions, {api_errors} api_error)",
    ]
    if verdict:
        lines.append(
            f"- RSS after warm-up: {verdict['rss0'] / 1024:.1f} MiB (first third, mean) -> "
            f"{verdict['rss1'] / 1024:.1f} MiB (last third): {verdict['rss_growth']:+.1%}; "
            f"open descriptors (max before the last third -> max in it): {verdict['fd0']} -> "
            f"{verdict['fd1']}: "
            f"{verdict['fd_growth']:+.1%}; limit +{GROWTH_LIMIT:.0%}")
    lines.append(f"- result: {'PASS' if not failures else 'FAIL'}")
    for f in failures:
        lines.append(f"- failure: {f}")
    lines += ["", "| t (s) | RSS (MiB) | open fds | simulator requests |", "|---:|---:|---:|---:|"]
    step = max(1, len(samples) // 40)
    for s in samples[::step] + ([samples[-1]] if samples and (len(samples) - 1) % step else []):
        lines.append(f"| {s['t']:.0f} | {s['rss_kib'] / 1024:.1f} | {s['fds']} | {s['requests']} |")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.result:
        with open(args.result, "w") as f:
            f.write("# Soak: last result\n\nWritten by `scripts/soak.py --result`; see the "
                    "script's header for the run and the verdict rule.\n\n" + report)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
