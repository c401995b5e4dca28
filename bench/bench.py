#!/usr/bin/env python3
"""labelwatch performance harness (issue 9; results and method in bench/README.md).

For each fleet size N it runs, on loopback with real TLS and AK/SK signing:

  1. labelwatch-sim with builtin:scale (N/2 auto-labeling and N/2 team tasks over M
     datasets), pinned to one core (--sim-core);
  2. labelwatchd watching every dataset with discovery, pinned to the other core
     (--daemon-core), every interval set to N / rate so all N tasks are polled at the
     target rate; after a warm-up it measures from outside, over a window of
     --duration seconds: achieved polls/s (the simulator's journal), CPU per poll
     (/proc/PID/stat utime+stime), RSS (/proc/PID/status), scheduler lag (the daemon's
     labelwatch_scheduler_lag_seconds histogram, window delta) and the poll gaps the
     journal shows; /metrics is scraped every --scrape-every seconds during the window
     like a Prometheus server would, then timed on its own (plain and gzip);
  3. start-up: labelwatchd is stopped and started again on its state file (N tasks),
     timed from exec to the first task request in the journal;
  4. the peer (bench/peer: Node.js, Huawei's SDK core signer, keep-alive agent) polls
     the same URLs at the same rate on the same core, measured the same way.

Prints a table (and --json / --plot outputs). Python standard library only; uses
tests/integration/harness.py for processes, TLS clients and the simulator's control API.

  bench/bench.py                       # N = 1000, 3000, 10000 at one poll per 10 s each
  bench/bench.py --n 10000 --duration 120
  bench/bench.py --quick               # a few seconds at small N: proves the harness works
"""

import argparse
import gzip
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
import harness  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
DETAIL_ENDPOINTS = ("auto_task", "workforce_task")


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------------------
# /proc readings


def cpu_times(pid):
    """(utime, stime) of the whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15.
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def cpu_seconds(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    return sum(cpu_times(pid))


def memory_kib(pid):
    """{"VmRSS": KiB, "VmHWM": KiB}."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "load": os.getloadavg()}


# ---------------------------------------------------------------------------------------
# Prometheus text helpers


def parse_histogram(text, name):
    """Cumulative buckets [(le, count)] (sorted, +Inf last) and the total count."""
    buckets = []
    count = 0.0
    for line in text.splitlines():
        if line.startswith(name + "_bucket{"):
            labels, _, value = line.rpartition(" ")
            le = labels.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), float(value)))
        elif line.startswith(name + "_count"):
            count = float(line.rpartition(" ")[2])
    buckets.sort()
    return buckets, count


def histogram_delta(before, after):
    b = dict(before[0])
    return [(le, c - b.get(le, 0.0)) for le, c in after[0]], after[1] - before[1]


def histogram_quantile(q, buckets, count):
    """Prometheus's histogram_quantile: linear interpolation inside the bucket."""
    if count <= 0 or not buckets:
        return None
    rank = q * count
    prev_le, prev_c = 0.0, 0.0
    for le, c in buckets:
        if c >= rank:
            if le == float("inf"):
                return prev_le
            if c == prev_c:
                return le
            return prev_le + (le - prev_le) * (rank - prev_c) / (c - prev_c)
        prev_le, prev_c = le, c
    return prev_le


def percentile(values, q):
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))
    return s[k]


# ---------------------------------------------------------------------------------------
# Processes


def pinned(core, argv):
    return ["taskset", "-c", str(core)] + argv


class Journal:
    """Reads the simulator's journal incrementally and keeps what the bench needs."""

    def __init__(self, sim):
        self.sim = sim
        self.since = self.last_seq()
        self.entries = []  # (time_ms, endpoint, task_id, status, path, query)

    def last_seq(self):
        r = self.sim.control("GET", "/journal", query={"since": 0, "limit": 0}).json()
        return r["last_seq"]

    def read(self):
        while True:
            r = self.sim.control("GET", "/journal",
                                 query={"since": self.since, "limit": 20000}).json()
            if r["oldest_seq"] > self.since + 1 and r["last_seq"] > self.since:
                raise BenchError("the simulator's journal dropped entries before the bench read "
                                 "them; raise --journal-capacity")
            for e in r["entries"]:
                self.entries.append((e["time_ms"], e["endpoint"], e.get("task_id", ""),
                                     e["status"], e["path"], e["query"]))
                self.since = e["seq"]
            if len(r["entries"]) < 20000:
                return

    def restart_from_now(self):
        self.entries = []
        self.since = self.last_seq()


def start_sim(args, workdir, n, rate):
    autos = n // 2
    scenario = f"builtin:scale?auto={autos}&workforce={n - autos}&datasets={args.datasets}&seed=1"
    ready_path = os.path.join(workdir, "sim-ready.json")
    capacity = max(100_000, int(rate * 60))
    argv = pinned(args.sim_core, [
        os.path.join(args.bin_dir, "labelwatch-sim"), "--listen", "127.0.0.1:0",
        "--ready-file", ready_path, "--scenario", scenario, "--auth", "aksk", "--tls", "auto",
        "--tls-dir", os.path.join(workdir, "tls"), "--log-level", "warn",
        "--journal-capacity", str(capacity)])
    env = {"HUAWEICLOUD_SDK_AK": harness.TEST_AK, "HUAWEICLOUD_SDK_SK": harness.TEST_SK}
    proc = harness.Process(argv, workdir, "labelwatch-sim", env=env)
    ready = harness.read_ready_file(ready_path, 120, proc)
    sim = harness.Sim(proc, ready, workdir)
    return sim, scenario


def sim_datasets(sim):
    view = sim.view()
    return [d["dataset_id"] for d in view["datasets"]]


def daemon_config(sim, workdir, datasets, interval_ms, rate, args):
    poll = {
        # Every status class at the same interval: all N tasks are polled at the target
        # rate whatever their simulated lifecycle does.
        "active_interval": f"{interval_ms}ms",
        "idle_interval": f"{interval_ms}ms",
        "terminal_interval": f"{interval_ms}ms",
        "request_timeout": "10s",
        # Headroom over the target: the first round (every task due at once after
        # discovery) goes out at this rate, later rounds are paced by the scheduler.
        "max_rate": round(min(10000.0, max(20.0, rate * args.rate_headroom)), 1),
        "max_in_flight": args.max_in_flight,
    }
    watches = [{"dataset_id": d, "discover": True, "discover_interval": "10m"} for d in datasets]
    return harness.daemon_config(sim, watches, poll=poll,
                                 events_log=os.path.join(workdir, "events.jsonl"),
                                 state_path=os.path.join(workdir, "state.db"))


class DaemonRun:
    def __init__(self, args, sim, workdir):
        self.args = args
        self.sim = sim
        self.workdir = workdir
        self.config = os.path.join(workdir, "labelwatch.toml")
        self.events_path = os.path.join(workdir, "events.jsonl")
        self.proc = None
        self.base_url = None
        self.runs = 0

    def started_events(self):
        out = []
        try:
            with open(self.events_path, "rb") as f:
                for line in f.read().decode().splitlines():
                    if '"daemon_started"' in line:
                        out.append(json.loads(line))
        except FileNotFoundError:
            pass
        return out

    def launch(self):
        self.runs += 1
        seen = len(self.started_events())
        env = {"HUAWEICLOUD_SDK_AK": self.sim.ak, "HUAWEICLOUD_SDK_SK": self.sim.sk}
        argv = pinned(self.args.daemon_core,
                      self.args.daemon_prefix.split()
                      + [os.path.join(self.args.bin_dir, "labelwatchd"), "--config", self.config])
        t_exec = time.time()
        self.proc = harness.Process(argv, self.workdir, f"labelwatchd-{self.runs}", env=env)

        def started():
            if not self.proc.alive():
                raise BenchError(f"labelwatchd exited with {self.proc.proc.returncode}:\n"
                                 f"{self.proc.log_tail()}")
            ev = self.started_events()
            return ev[seen] if len(ev) > seen else None

        ev = harness.poll_until(started, 60, interval=0.01, what="daemon_started")
        self.base_url = ev["listen"]
        return t_exec, ev

    def get(self, path, headers=None):
        c = harness.Client(self.base_url, timeout=60)
        try:
            t = time.perf_counter()
            r = c.request("GET", path, headers=headers, sign=False)
            return r, time.perf_counter() - t
        finally:
            c.close()

    def stop(self):
        code = self.proc.stop(grace=30)
        if code != 0:
            raise BenchError(f"labelwatchd exited with {code} on SIGTERM:\n{self.proc.log_tail()}")


# ---------------------------------------------------------------------------------------
# One fleet size


def measure_point(args, n, interval_s, log):
    rate = n / interval_s
    interval_ms = int(round(interval_s * 1000))
    workdir = tempfile.mkdtemp(prefix=f"lw-bench-{n}-")
    result = {"n": n, "target_rate": rate, "interval_s": interval_s, "datasets": args.datasets}
    sim = None
    d = None
    try:
        sim, scenario = start_sim(args, workdir, n, rate)
        result["scenario"] = scenario
        datasets = sim_datasets(sim)
        with open(os.path.join(workdir, "labelwatch.toml"), "w") as f:
            f.write(daemon_config(sim, workdir, datasets, interval_ms, rate, args))
        journal = Journal(sim)

        # --- labelwatchd: warm-up, then the measurement window ---
        d = DaemonRun(args, sim, workdir)
        d.launch()
        log(f"N={n}: labelwatchd started, {len(datasets)} datasets, target {rate:.0f} polls/s")
        harness.poll_until(lambda: d.get("/readyz")[0].status == 200,
                           max(60, 3 * interval_s), interval=0.2, what="/readyz")
        t_ready = time.monotonic()
        # Like a Prometheus server, scrape all along: the window then sees steady-state
        # scrapes, not the first one (which renders every series).
        wait_until(t_ready + args.warmup_intervals * interval_s, journal,
                   scrape=lambda: d.get("/metrics"), scrape_every=args.scrape_every)
        journal.restart_from_now()

        pid = d.proc.pid
        window = measure_window(args, d, pid, journal, log)
        result["daemon"] = window
        targets = window.pop("targets")

        # /metrics on its own: wall time, size, CPU per scrape; plain and gzip.
        result["metrics"] = time_scrapes(d, pid, args.scrapes)

        # --- start-up with N tasks in the state file ---
        startups = []
        restored = None
        for _ in range(args.restarts):
            d.stop()
            journal.restart_from_now()
            t_exec, ev = d.launch()
            restored = ev.get("restored_tasks")
            first = harness.poll_until(lambda: first_poll_ms(journal), 30, interval=0.02,
                                       what="the first poll after a restart")
            startups.append(first / 1000.0 - t_exec)
        result["startup_s"] = startups
        result["restored_tasks"] = restored
        d.stop()
        d = None

        # --- the peer ---
        if args.peer:
            result["peer"] = run_peer(args, sim, workdir, targets, rate, journal, log)
    finally:
        if d is not None and d.proc is not None:
            d.proc.stop(grace=30)
        if sim is not None:
            sim.close_clients()
            sim.process.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"kept {workdir}")
    return result


def wait_until(deadline, journal, scrape=None, scrape_every=None):
    # Keep draining the journal while waiting so it never overflows.
    next_scrape = time.monotonic()
    while time.monotonic() < deadline:
        if scrape is not None and time.monotonic() >= next_scrape:
            scrape()
            next_scrape += scrape_every
        journal.read()
        journal.entries.clear()
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))


def first_poll_ms(journal):
    journal.read()
    for t, endpoint, *_ in journal.entries:
        if endpoint in DETAIL_ENDPOINTS:
            return t
    return None


def measure_window(args, d, pid, journal, log):
    lag_name = "labelwatch_scheduler_lag_seconds"
    scrape_times = []
    r, dt = d.get("/metrics")
    scrape_times.append(dt)
    lag_before = parse_histogram(r.body.decode(), lag_name)
    t0_wall = time.time()
    t0 = time.monotonic()
    user0, sys0 = cpu_times(pid)
    rss = []
    next_scrape = t0 + args.scrape_every
    end = t0 + args.duration
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if now >= next_scrape:
            _, dt = d.get("/metrics")
            scrape_times.append(dt)
            next_scrape += args.scrape_every
        rss.append(memory_kib(pid)["VmRSS"])
        journal.read()
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))
    user1, sys1 = cpu_times(pid)
    t1_wall = time.time()
    t1 = time.monotonic()
    mem = memory_kib(pid)
    r, dt = d.get("/metrics")
    scrape_times.append(dt)
    lag_after = parse_histogram(r.body.decode(), lag_name)
    journal.read()

    polls, errors, gaps, targets = analyse_journal(journal.entries, t0_wall, t1_wall)
    elapsed = t1 - t0
    buckets, count = histogram_delta(lag_before, lag_after)
    cpu = (user1 - user0) + (sys1 - sys0)
    out = {
        "window_s": elapsed,
        "cpu_user_s": user1 - user0,
        "cpu_sys_s": sys1 - sys0,
        "polls": polls,
        "poll_errors": errors,
        "achieved_rate": polls / elapsed,
        "cpu_s": cpu,
        "cpu_us_per_poll": cpu / polls * 1e6 if polls else None,
        "rss_steady_kib": statistics.median(rss) if rss else mem["VmRSS"],
        "rss_end_kib": mem["VmRSS"],
        "rss_peak_kib": mem["VmHWM"],
        "lag_observations": count,
        "lag_p50_s": histogram_quantile(0.5, buckets, count),
        "lag_p99_s": histogram_quantile(0.99, buckets, count),
        "lag_max_bucket_s": max((le for le, c in buckets if c > 0 and le != float("inf")),
                                default=None),
        "in_window_scrape_s": scrape_times,
        "gap_samples": len(gaps),
        "targets": targets,
    }
    out["gaps"] = gaps
    log(f"  window {elapsed:.1f}s: {polls} polls ({polls / elapsed:.1f}/s), "
        f"CPU {cpu:.2f}s (user {user1 - user0:.2f}, sys {sys1 - sys0:.2f}) = "
        f"{out['cpu_us_per_poll'] or 0:.1f} us/poll, "
        f"lag p99 {fmt_ms(out['lag_p99_s'])}")
    return out


def analyse_journal(entries, t0_wall, t1_wall):
    """Polls (200 task-detail GETs) inside [t0, t1], errors, per-task gaps (seconds,
    every consecutive pair inside the window) and one (path, query) per task."""
    lo, hi = t0_wall * 1000.0, t1_wall * 1000.0
    polls = errors = 0
    last = {}
    gaps = []
    targets = {}
    for t, endpoint, task_id, status, path, query in entries:
        if endpoint not in DETAIL_ENDPOINTS:
            continue
        targets.setdefault(task_id, (path, query))
        if not (lo <= t <= hi):
            continue
        if status == 200:
            polls += 1
        else:
            errors += 1
        if task_id in last:
            gaps.append((t - last[task_id]) / 1000.0)
        last[task_id] = t
    return polls, errors, gaps, targets


def time_scrapes(d, pid, count):
    out = {}
    for mode, headers in (("plain", None), ("gzip", {"Accept-Encoding": "gzip"})):
        walls, cpus, sizes = [], [], []
        plain_size = None
        for _ in range(count):
            c0 = cpu_seconds(pid)
            r, dt = d.get("/metrics", headers=headers)
            cpus.append(cpu_seconds(pid) - c0)
            if r.status != 200:
                raise BenchError(f"/metrics -> {r.status}")
            walls.append(dt)
            sizes.append(len(r.body))
            if mode == "gzip":
                if r.header("content-encoding") != "gzip":
                    raise BenchError("/metrics ignored Accept-Encoding: gzip")
                plain_size = len(gzip.decompress(r.body))
        out[mode] = {"wall_s": walls, "cpu_s": cpus, "bytes": statistics.median(sizes)}
        if plain_size is not None:
            out[mode]["uncompressed_bytes"] = plain_size
    return out


def run_peer(args, sim, workdir, targets, rate, journal, log):
    node = shutil.which("node")
    peer_dir = os.path.join(HERE, "peer")
    if node is None or not os.path.isdir(os.path.join(peer_dir, "node_modules")):
        raise BenchError("the peer needs node and bench/peer/node_modules (run bench/run.sh, "
                         "or `npm ci` in bench/peer), or pass --no-peer")
    plan = {
        "base_url": sim.base_url, "ca_file": sim.ca_file, "project_id": sim.project_id,
        "rate": rate, "duration_s": args.peer_warmup + args.duration + 2,
        "max_sockets": args.max_in_flight, "targets": [],
    }
    prefix = f"/v2/{sim.project_id}/"
    for path, query in targets.values():
        plan["targets"].append({
            "path": "/v2/{project_id}/" + path[len(prefix):] if path.startswith(prefix) else path,
            "query": dict(urllib.parse.parse_qsl(query)),
        })
    plan_path = os.path.join(workdir, "peer-plan.json")
    with open(plan_path, "w") as f:
        json.dump(plan, f)
    env = {"HUAWEICLOUD_SDK_AK": sim.ak, "HUAWEICLOUD_SDK_SK": sim.sk}
    proc = harness.Process(pinned(args.daemon_core, [node, os.path.join(peer_dir, "peer.js"),
                                                     plan_path]), workdir, "peer", env=env)
    try:
        journal.restart_from_now()
        wait_until(time.monotonic() + args.peer_warmup, journal)
        if not proc.alive():
            raise BenchError(f"the peer exited early:\n{proc.log_tail()}")
        journal.restart_from_now()
        pid = proc.pid
        t0_wall, t0 = time.time(), time.monotonic()
        cpu0 = cpu_seconds(pid)
        rss = []
        end = t0 + args.duration
        while time.monotonic() < end:
            rss.append(memory_kib(pid)["VmRSS"])
            journal.read()
            time.sleep(min(1.0, max(0.0, end - time.monotonic())))
        cpu1 = cpu_seconds(pid)
        mem = memory_kib(pid)
        t1_wall, t1 = time.time(), time.monotonic()
        journal.read()
        polls, errors, _, _ = analyse_journal(journal.entries, t0_wall, t1_wall)
        proc.proc.wait(timeout=args.duration + 60)
        summary = json.loads(proc.stdout().strip().splitlines()[-1])
    finally:
        proc.stop()
    elapsed = t1 - t0
    cpu = cpu1 - cpu0
    out = {"window_s": elapsed, "polls": polls, "poll_errors": errors,
           "achieved_rate": polls / elapsed, "cpu_s": cpu,
           "cpu_us_per_poll": cpu / polls * 1e6 if polls else None,
           "rss_steady_kib": statistics.median(rss) if rss else mem["VmRSS"],
           "rss_peak_kib": mem["VmHWM"], "summary": summary}
    log(f"  peer {elapsed:.1f}s: {polls} polls ({polls / elapsed:.1f}/s), CPU {cpu:.2f}s = "
        f"{out['cpu_us_per_poll'] or 0:.1f} us/poll")
    return out


# ---------------------------------------------------------------------------------------
# Output


def fmt_ms(s):
    return "-" if s is None else f"{s * 1000:.1f} ms"


def summarise(r):
    """The table row (strings) and the checks of one point."""
    dm = r["daemon"]
    gaps = dm.get("gaps") or []
    interval = r["interval_s"]
    scr = r["metrics"]
    plain_wall = statistics.median(scr["plain"]["wall_s"])
    gzip_wall = statistics.median(scr["gzip"]["wall_s"])
    row = {
        "N": f"{r['n']:,}",
        "target/s": f"{r['target_rate']:.0f}",
        "achieved/s": f"{dm['achieved_rate']:.1f} ({100 * dm['achieved_rate'] / r['target_rate']:.1f}%)",
        "CPU us/poll": f"{dm['cpu_us_per_poll']:.1f}" if dm["cpu_us_per_poll"] else "-",
        "CPU s/1k polls": f"{dm['cpu_us_per_poll'] / 1000:.3f}" if dm["cpu_us_per_poll"] else "-",
        "RSS steady/peak MiB": f"{dm['rss_steady_kib'] / 1024:.1f} / {dm['rss_peak_kib'] / 1024:.1f}",
        "lag p50/p99": f"{fmt_ms(dm['lag_p50_s'])} / {fmt_ms(dm['lag_p99_s'])}",
        "gap/interval p1/p50/p99": (
            f"{percentile(gaps, 0.01) / interval:.3f} / {percentile(gaps, 0.5) / interval:.3f} / "
            f"{percentile(gaps, 0.99) / interval:.3f}" if gaps else "-"),
        "/metrics plain": f"{plain_wall * 1000:.0f} ms, {scr['plain']['bytes'] / 1e6:.2f} MB",
        "/metrics gzip": f"{gzip_wall * 1000:.0f} ms, {scr['gzip']['bytes'] / 1e6:.2f} MB",
        "start-up": f"{statistics.median(r['startup_s']) * 1000:.0f} ms",
    }
    peer = r.get("peer")
    if peer:
        row["peer achieved/s"] = f"{peer['achieved_rate']:.1f}"
        row["peer CPU us/poll"] = f"{peer['cpu_us_per_poll']:.1f}" if peer["cpu_us_per_poll"] else "-"
        if peer["cpu_us_per_poll"] and dm["cpu_us_per_poll"]:
            row["peer/labelwatchd"] = f"{peer['cpu_us_per_poll'] / dm['cpu_us_per_poll']:.1f}x"
    checks = [
        ("achieved rate >= 99% of target", dm["achieved_rate"] >= 0.99 * r["target_rate"]),
        ("scheduler lag p99 <= 250 ms", dm["lag_p99_s"] is not None and dm["lag_p99_s"] <= 0.25),
        ("CPU <= 100 us per poll", bool(dm["cpu_us_per_poll"]) and dm["cpu_us_per_poll"] <= 100),
        ("RSS steady <= 64 MiB", dm["rss_steady_kib"] <= 64 * 1024),
        ("/metrics <= 150 ms per scrape", plain_wall <= 0.15),
        ("start-up to first poll <= 1 s", statistics.median(r["startup_s"]) <= 1.0),
    ]
    if peer and peer["cpu_us_per_poll"] and dm["cpu_us_per_poll"]:
        checks.append(("peer uses >= 10x the CPU per poll",
                       peer["cpu_us_per_poll"] >= 10 * dm["cpu_us_per_poll"]))
    return row, checks


def print_table(rows, out=sys.stdout):
    if not rows:
        return
    cols = list(rows[0].keys())
    for r in rows[1:]:
        for c in r:
            if c not in cols:
                cols.append(c)
    out.write("| " + " | ".join(cols) + " |\n")
    out.write("|" + "|".join("---" for _ in cols) + "|\n")
    for r in rows:
        out.write("| " + " | ".join(r.get(c, "-") for c in cols) + " |\n")


def plot(results, path, log):
    gnuplot = shutil.which("gnuplot")
    if gnuplot is None:
        log("gnuplot not found (apt-get install gnuplot-nox, or run bench/run.sh): no plot")
        return False
    data = path + ".dat"
    with open(data, "w") as f:
        f.write("# N cpu_us_per_poll lag_p50_ms lag_p99_ms peer_cpu_us_per_poll\n")
        for r in sorted(results, key=lambda r: r["n"]):
            dm = r["daemon"]
            peer = r.get("peer") or {}
            f.write(f"{r['n']} {dm['cpu_us_per_poll'] or 0:.3f} {(dm['lag_p50_s'] or 0) * 1000:.3f} "
                    f"{(dm['lag_p99_s'] or 0) * 1000:.3f} {peer.get('cpu_us_per_poll') or 'NaN'}\n")
    script = f"""
set terminal pngcairo size 960,420 font ",10"
set output "{path}"
set multiplot layout 1,2 title "labelwatchd: one core, loopback TLS, one poll per task every {results[0]['interval_s']:g} s"
set logscale x
set xlabel "tasks (N)"
set grid
set key top left
set ylabel "CPU per poll (us)"
set logscale y
plot "{data}" using 1:2 with linespoints lw 2 pt 7 title "labelwatchd", \\
     "{data}" using 1:5 with linespoints lw 2 pt 5 title "Node.js + SDK core peer"
unset logscale y
set ylabel "scheduler lag (ms)"
set yrange [0:*]
plot "{data}" using 1:3 with linespoints lw 2 pt 7 title "p50", \\
     "{data}" using 1:4 with linespoints lw 2 pt 5 title "p99"
unset multiplot
"""
    r = subprocess.run([gnuplot], input=script, text=True, capture_output=True)
    os.unlink(data)
    if r.returncode != 0:
        log(f"gnuplot failed: {r.stderr.strip()}")
        return False
    return True


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", default=None, help="comma-separated fleet sizes (default 1000,3000,10000)")
    p.add_argument("--interval", type=float, default=10.0,
                   help="seconds between two polls of one task (rate = N / interval)")
    p.add_argument("--datasets", type=int, default=50)
    p.add_argument("--duration", type=float, default=60.0, help="measurement window, seconds")
    p.add_argument("--warmup-intervals", type=float, default=2.0,
                   help="intervals to wait after /readyz before measuring")
    p.add_argument("--scrape-every", type=float, default=15.0,
                   help="/metrics scrapes during the window, like a Prometheus server")
    p.add_argument("--scrapes", type=int, default=5, help="timed /metrics scrapes per encoding")
    p.add_argument("--restarts", type=int, default=3, help="timed restarts on the state file")
    p.add_argument("--max-in-flight", type=int, default=64)
    p.add_argument("--rate-headroom", type=float, default=1.5,
                   help="[poll] max_rate = target rate times this")
    p.add_argument("--peer", dest="peer", action="store_true", default=True)
    p.add_argument("--no-peer", dest="peer", action="store_false")
    p.add_argument("--peer-warmup", type=float, default=5.0)
    p.add_argument("--daemon-core", type=int, default=0, help="core for labelwatchd and the peer")
    p.add_argument("--sim-core", type=int, default=1, help="core for labelwatch-sim and the bench")
    p.add_argument("--build-dir", default=os.environ.get("LABELWATCH_BUILD_DIR",
                                                         os.path.join(SOURCE, "build")))
    p.add_argument("--daemon-prefix", default="",
                   help="command prefix for labelwatchd, e.g. \"valgrind --tool=callgrind\" "
                        "to profile it under the bench's load")
    p.add_argument("--json", help="write every measurement here")
    p.add_argument("--plot", help="write a PNG of CPU per poll and lag across N (gnuplot)")
    p.add_argument("--quick", action="store_true",
                   help="small N, short windows: checks the harness end to end in seconds")
    p.add_argument("--check", action="store_true",
                   help="exit 1 unless every target of issue 9 is met")
    p.add_argument("--keep", action="store_true", help="keep the work directories")
    args = p.parse_args()

    if args.quick:
        sizes = [int(x) for x in (args.n or "200").split(",")]
        args.interval = 2.0 if args.interval == 10.0 else args.interval
        args.duration = 4.0 if args.duration == 60.0 else args.duration
        args.warmup_intervals = 1.0
        args.scrape_every = 2.0
        args.scrapes = 2
        args.restarts = 1
        args.peer_warmup = 1.0
        args.datasets = min(args.datasets, 4)
    else:
        sizes = [int(x) for x in (args.n or "1000,3000,10000").split(",")]
    args.bin_dir = os.path.join(args.build_dir, "daemon")
    os.environ["LABELWATCH_BIN_DIR"] = args.bin_dir
    for exe in ("labelwatchd", "labelwatch-sim"):
        if not os.access(os.path.join(args.bin_dir, exe), os.X_OK):
            sys.exit(f"bench: {exe} is not built in {args.bin_dir} (cmake --build build "
                     f"--target labelwatchd labelwatch-sim)")
    if shutil.which("taskset") is None:
        sys.exit("bench: taskset (util-linux) is needed to pin processes to cores")
    cores = os.sched_getaffinity(0)
    if args.daemon_core not in cores or args.sim_core not in cores:
        sys.exit(f"bench: cores {args.daemon_core} and {args.sim_core} must be available "
                 f"(have {sorted(cores)})")
    # The bench itself (journal reading, scrapes) shares the simulator's core, so the
    # measured process has its core to itself.
    os.sched_setaffinity(0, {args.sim_core})

    def log(msg):
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    info = machine()
    log(f"{info['cpu']}, {info['cores']} cores, kernel {info['kernel']}, "
        f"load {info['load'][0]:.2f} {info['load'][1]:.2f} {info['load'][2]:.2f}")
    results = []
    for n in sizes:
        try:
            results.append(measure_point(args, n, args.interval, log))
        except (BenchError, AssertionError) as e:
            log(f"N={n}: {e}")
            sys.exit(1)
    info["load_after"] = os.getloadavg()

    rows, failed = [], []
    for r in results:
        row, checks = summarise(r)
        rows.append(row)
        for what, ok in checks:
            if not ok:
                failed.append(f"N={r['n']}: {what}")
    print_table(rows)
    print()
    for r in results:
        dm = r["daemon"]
        print(f"N={r['n']:,}: {dm['polls']} polls in {dm['window_s']:.1f} s, {dm['poll_errors']} "
              f"errors; restored {r['restored_tasks']} tasks; start-up "
              + ", ".join(f"{s * 1000:.0f} ms" for s in r["startup_s"])
              + "; /metrics CPU per scrape "
              f"{statistics.median(r['metrics']['plain']['cpu_s']) * 1000:.0f} ms plain, "
              f"{statistics.median(r['metrics']['gzip']['cpu_s']) * 1000:.0f} ms gzip; "
              f"in-window scrapes " + ", ".join(f"{s * 1000:.0f}" for s in dm["in_window_scrape_s"])
              + " ms")
    print(f"\nload average before {info['load'][0]:.2f}, after {info['load_after'][0]:.2f}")
    if failed:
        print("targets missed:\n  " + "\n  ".join(failed))
    else:
        print("every target met")

    if args.json:
        for r in results:
            r["daemon"].pop("gaps", None)
        with open(args.json, "w") as f:
            json.dump({"machine": info, "results": results}, f, indent=1)
    if args.plot:
        plot(results, args.plot, log)
    # Sanity the harness always enforces: something was measured.
    for r in results:
        if r["daemon"]["polls"] == 0:
            log(f"N={r['n']}: no poll was measured")
            sys.exit(1)
        if r["restored_tasks"] != r["n"]:
            log(f"N={r['n']}: restarted with {r['restored_tasks']} tasks, expected {r['n']}")
            sys.exit(1)
    if args.check and failed:
        sys.exit(1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
