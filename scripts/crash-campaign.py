#!/usr/bin/env python3
"""Crash campaign (issue 8): kills labelwatchd with SIGKILL at random moments of a busy
run, at least 50 times, and checks that a crash never corrupts the state, never repeats
a transition and never applies an acceptance decision twice.

    scripts/crash-campaign.py [--kills 50] [--seed N] [--build-dir build]
                              [--result tests/crash/RESULTS.md]

The run: labelwatch-sim with a generated project (4 datasets, 160 auto-labeling tasks
moving queuing -> running -> succeeded/failed, 60 team-labeling tasks moving created ->
starting -> running -> accepting with complete checking stats, all spread over about
three minutes), and labelwatchd polling every second with discovery and an acceptance
rule in enforce mode (pass_all at pass rate >= 0.95). Between kills it waits a random
0-4 s (a fifth of the kills within 0.3 s of the start, while the first poll round and
the store's first transactions run). Two runs in five also arm the acceptance
executor's test hook (LABELWATCH_TEST_CRASH_POINT=after_intent / after_send), which
ends the process at the two most dangerous moments of an action; those runs get 2 s more
and are SIGKILLed like the others when the hook did not fire.

After every kill, before the restart: `PRAGMA integrity_check` on the database as the
crash left it must say ok; the restart must come up (the store opens, quick_check
passes). At the end (after letting the scenario finish and a clean SIGTERM):
  - no task_status_changed or task_discovered event appears twice over all runs (the
    scenario never repeats a move, so any repeat is a re-emission);
  - every transition event is also in the database (nothing announced that was not
    stored), and the database has no duplicate transition;
  - the simulator journal has at most one acceptance PUT per team task (one decision per
    checking task, never resent after a crash), and the ledger has at most one entry per
    checking task and mode.
Exit status 0 when every check held, 1 otherwise; a Markdown summary goes to --result
(default: print only).
"""

import argparse
import collections
import datetime
import json
import os
import random
import sqlite3
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import harness  # noqa: E402

DATASETS = [f"dsCrash00000000000{i}" for i in range(4)]
AUTO_PER_DATASET = 40
TEAM_PER_DATASET = 15
SPREAD_S = 170
CRASH_EXIT = 86  # lib/rules/executor.cpp k_crash_exit_code (the test crash hook)


def ms(seconds):
    return f"{int(seconds * 1000)}ms"


def build_scenario(rng):
    datasets = []
    for di, ds in enumerate(DATASETS):
        autos, teams = [], []
        for i in range(AUTO_PER_DATASET):
            t_run = rng.uniform(2, SPREAD_S - 40)
            t_end = t_run + rng.uniform(10, 40)
            fail = rng.random() < 0.1
            end = {"at": ms(t_end), "status": 2 if fail else 3}
            if fail:
                end.update(error_code="ModelArts.4654", error_msg="Inference execution error.")
            autos.append({
                "task_id": f"autoCrash{di}{i:09d}", "task_name": f"auto-{di}-{i}",
                "document": {"result": {"total_sample_count": 500, "annotated_sample_count": 0,
                                        "unconfirmed_sample_count": 0}},
                "timeline": [
                    {"at": "0s", "status": -1, "progress": 0.0},
                    {"at": ms(t_run), "status": 1, "code": "ModelArts.4902"},
                    {"at": ms(t_end - 0.5), "ramp": True, "progress": 100.0,
                     "result": {"annotated_sample_count": 500}},
                    end]})
        for i in range(TEAM_PER_DATASET):
            t0 = rng.uniform(2, SPREAD_S - 60)
            t1, t2, t3 = t0 + rng.uniform(3, 10), t0 + rng.uniform(12, 25), t0 + rng.uniform(28, 50)
            teams.append({
                "task_id": f"teamCrash{di}{i:09d}", "task_name": f"team-{di}-{i}",
                "acceptance_sync": "3s",
                "document": {"sample_stats": {
                    "total_sample_count": 100, "unannotated_sample_count": 100,
                    "unreviewed_sample_count": 0, "uncheck_sample_count": 0,
                    "sampled_sample_count": 0, "rejected_sample_count": 0,
                    "accepted_sample_count": 0, "auto_annotation_sample_count": 0,
                    "deleted_sample_count": 0}},
                "timeline": [
                    {"at": "0s", "status": 6},
                    {"at": ms(t0), "status": 0},
                    {"at": ms(t1), "status": 1},
                    {"at": ms(t2), "ramp": True, "sample_stats": {
                        "unannotated_sample_count": 0, "uncheck_sample_count": 100}},
                    {"at": ms(t3), "status": 2, "checking_task_desc": {
                        "checking_task_id": f"chkCrash{di}{i:010d}", "action": 0,
                        "checking_stats": {"sampling_num": 60, "sampled_sample_count": 60,
                                           "checked_sample_count": 60,
                                           "accepted_sample_count": 58,
                                           "rejected_sample_count": 2,
                                           "unchecked_sample_count": 0,
                                           "pass_rate": 0.9667}}}]})
        datasets.append({"dataset_id": ds, "dataset_name": f"crash-{di}", "auto_tasks": autos,
                         "workforce_tasks": teams})
    return {"datasets": datasets, "acceptance_sync": "3s"}


ACCEPTANCE = """
[acceptance]
max_actions_per_hour = 10000
task_cooldown = "0s"

[[acceptance.rule]]
name = "crash-pass"
mode = "enforce"
datasets = ["*"]
when_status = ["accepting"]
min_pass_rate = 0.95
min_checked_samples = 50
require_sampling_complete = true
action = "pass_all"
"""


def integrity(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return [r[0] for r in db.execute("PRAGMA integrity_check").fetchall()]
    finally:
        db.close()


def table_exists(db, name):
    return db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                      (name,)).fetchone() is not None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--build-dir", default=os.environ.get("LABELWATCH_BUILD_DIR",
                                                          os.path.join(ROOT, "build")))
    ap.add_argument("--result", default=None, help="write a Markdown summary here")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    os.environ.setdefault("LABELWATCH_BIN_DIR", os.path.join(os.path.abspath(args.build_dir),
                                                             "daemon"))

    work = tempfile.mkdtemp(prefix="lw-crash-")
    scenario_path = os.path.join(work, "scenario.json")
    with open(scenario_path, "w") as f:
        json.dump(build_scenario(rng), f)
    started = time.time()
    sim = harness.Sim.start(None, scenario=scenario_path)
    watches = [{"dataset_id": ds, "discover": True, "discover_interval": "5s"} for ds in DATASETS]
    poll = {"active_interval": "1s", "idle_interval": "2s", "terminal_interval": "5s",
            "request_timeout": "5s", "max_in_flight": 32, "max_rate": 400.0}
    daemon_dir = os.path.join(work, "daemon")
    os.makedirs(daemon_dir)
    d = harness.Daemon.start(None, sim, watches, poll=poll, extra=ACCEPTANCE, workdir=daemon_dir)
    failures = []
    integrity_results = []
    kill_delays = []
    restart_seconds = []
    hook_exits = collections.Counter()
    armed_runs = 0
    crash_point = None
    try:
        for n in range(args.kills):
            delay = rng.uniform(0, 0.3) if rng.random() < 0.2 else rng.uniform(0.3, 4.0)
            if crash_point:
                delay += 2.0  # some more time for an acceptance action to reach the hook
            kill_delays.append(delay)
            time.sleep(delay)  # a random moment, not synchronisation
            if not d.process.alive():
                code = d.process.proc.returncode
                if crash_point and code == CRASH_EXIT:
                    hook_exits[crash_point] += 1
                    d.process.expect_clean_exit = False
                    d.process.kill()  # closes its log files
                else:
                    failures.append(f"kill {n + 1}: labelwatchd had exited by itself "
                                    f"({code}):\n{d.process.log_tail()}")
                    break
            else:
                d.kill()
            result = integrity(d.state_path) if os.path.exists(d.state_path) else ["no file yet"]
            integrity_results.append(result)
            if result != ["ok"] and result != ["no file yet"]:
                failures.append(f"kill {n + 1}: integrity_check says {result}")
            # Every fifth run also arms the executor's test hook, which ends the process
            # right after an acceptance intent is durable or right after the PUT's
            # answer, the two moments where a crash could make it act twice.
            crash_point = {2: "after_intent", 4: "after_send"}.get(n % 5) \
                if n + 1 < args.kills else None
            if crash_point:
                armed_runs += 1
                d.env["LABELWATCH_TEST_CRASH_POINT"] = crash_point
            else:
                d.env.pop("LABELWATCH_TEST_CRASH_POINT", None)
            t = time.monotonic()
            try:
                d.launch(30)
            except AssertionError as e:
                failures.append(f"restart after kill {n + 1} failed: {e}")
                break
            restart_seconds.append(time.monotonic() - t)
            print(f"kill {n + 1}/{args.kills} after {delay:.2f}s: integrity {result[0]}, "
                  f"restarted in {restart_seconds[-1]:.2f}s", flush=True)

        # Let the scenario play out, then stop cleanly.
        deadline = started + SPREAD_S + 30
        while time.time() < deadline and d.process.alive():
            time.sleep(1)
        code = d.stop(20) if d.process.alive() else d.process.proc.returncode
        if code != 0:
            failures.append(f"final SIGTERM: exit {code}:\n{d.process.log_tail()}")
        final_integrity = integrity(d.state_path)
        if final_integrity != ["ok"]:
            failures.append(f"final integrity_check says {final_integrity}")

        events = d.events()
        counts = collections.Counter()
        for e in events:
            if e["event"] == "task_status_changed":
                counts[("task_status_changed", e["task_id"], e["from_code"], e["to_code"])] += 1
            elif e["event"] == "task_discovered":
                counts[("task_discovered", e["task_id"])] += 1
        repeated = {k: v for k, v in counts.items() if v > 1}
        if repeated:
            failures.append(f"events emitted more than once: {sorted(repeated.items())[:20]}")
        transitions_emitted = sum(1 for k in counts if k[0] == "task_status_changed")
        discovered = sum(1 for k in counts if k[0] == "task_discovered")

        db = sqlite3.connect(f"file:{d.state_path}?mode=ro", uri=True)
        stored = collections.Counter(db.execute(
            "SELECT task_id, from_code, to_code FROM transitions").fetchall())
        dup_rows = {k: v for k, v in stored.items() if v > 1}
        if dup_rows:
            failures.append(f"duplicate transition rows: {sorted(dup_rows.items())[:20]}")
        missing = [k for k in counts if k[0] == "task_status_changed" and
                   (k[1], k[2], k[3]) not in stored]
        if missing:
            failures.append(f"transition events not in the database: {missing[:20]}")
        ledger_entries = 0
        if table_exists(db, "acceptance_ledger"):
            rows = db.execute("SELECT dataset_id, task_id, checking_task_id, mode, state "
                              "FROM acceptance_ledger").fetchall()
            ledger_entries = len(rows)
            live = collections.Counter((r[0], r[1], r[2], r[3]) for r in rows
                                       if r[4] != "not_applied")
            dup = {k: v for k, v in live.items() if v > 1}
            if dup:
                failures.append(f"ledger has two live entries for a checking task: {dup}")
            ledger_states = collections.Counter(r[4] for r in rows)
        else:
            ledger_states = collections.Counter()
        db.close()

        applied_events = collections.Counter(
            e.get("checking_task_id") for e in events
            if e["event"] == "acceptance_decision" and e.get("outcome") == "applied")
        applied_twice = {k: v for k, v in applied_events.items() if v > 1}
        if applied_twice:
            failures.append(f"acceptance_decision applied reported twice: {applied_twice}")
        puts = [e for e in sim.journal(since=0, endpoint="acceptance") if e["method"] == "PUT"]
        per_task = collections.Counter(e["task_id"] for e in puts)
        twice = {k: v for k, v in per_task.items() if v > 1}
        if twice:
            failures.append(f"acceptance sent more than once: {twice}")
        applied = sum(1 for e in puts if e["status"] == 200)
        accepted = sum(1 for ds in sim.view().get("datasets", [])
                       for t in ds.get("workforce_tasks", []) if t.get("status") == 3)
        sim.stop()
    finally:
        if d.process is not None and d.process.alive():
            d.process.kill()
        if sim.process.alive():
            sim.process.kill()

    ok_checks = sum(1 for r in integrity_results if r == ["ok"])
    lines = [
        f"## Crash campaign {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}Z "
        f"(seed {seed})",
        "",
        f"- build: `{os.path.abspath(args.build_dir)}`; "
        f"{len(DATASETS) * AUTO_PER_DATASET} auto + {len(DATASETS) * TEAM_PER_DATASET} team "
        f"tasks, polled every 1 s, discovery every 5 s, acceptance rule `crash-pass` in enforce mode",
        f"- SIGKILLs: {len(kill_delays)} (delays {min(kill_delays):.2f}-{max(kill_delays):.2f} s, "
        f"{sum(1 for x in kill_delays if x < 0.3)} within 0.3 s of a start); "
        f"restarts: {len(restart_seconds)} (median "
        f"{sorted(restart_seconds)[len(restart_seconds) // 2] if restart_seconds else 0:.2f} s)",
        f"- `PRAGMA integrity_check` after each kill: {ok_checks} ok, "
        f"{len(integrity_results) - ok_checks} other "
        f"({sum(1 for r in integrity_results if r == ['no file yet'])} before the file existed); "
        f"final: {final_integrity[0]}",
        f"- events over all runs: {transitions_emitted} distinct transitions, {discovered} "
        f"discoveries, repeated: {len(repeated)}; transition rows in the database: "
        f"{sum(stored.values())}, duplicated: {len(dup_rows)}; events missing from the "
        f"database: {len(missing)}",
        f"- acceptance: {len(puts)} PUTs in the simulator journal ({applied} answered 200), "
        f"tasks with more than one PUT: {len(twice)}; team tasks accepted: {accepted}; "
        f"ledger entries: {ledger_entries} {dict(ledger_states)}; acceptance_decision "
        f"applied events: {sum(applied_events.values())}, repeated: {len(applied_twice)}",
        f"- runs with the executor's crash hook armed: "
        f"{armed_runs}; the hook "
        f"ended the process {sum(hook_exits.values())} times {dict(hook_exits)} (the other "
        f"runs were SIGKILLed before an action)",
        f"- result: {'PASS' if not failures else 'FAIL'}",
    ]
    if not puts:
        lines.append("- note: no acceptance PUT was sent, so the acceptance checks held "
                     "vacuously (a build without the acceptance executor?)")
    for f in failures:
        lines.append(f"- failure: {f}")
    summary = "\n".join(lines) + "\n"
    print(summary)
    if args.result:
        with open(args.result, "w") as f:
            f.write("# Crash campaign: last result\n\nWritten by `scripts/crash-campaign.py "
                    "--result`; see the script's header for what is checked.\n\n" + summary)
    if not args.keep:
        harness._rmtree(work)  # noqa: SLF001
    else:
        print(f"work directory kept: {work}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
