"""labelwatchd against labelwatch-sim (issue 4): the whole lifecycle of tasks, restarts
with kill -9, discovery, disappearance, stalls, and a slow task next to healthy ones.
Every process is real, over TLS with AK/SK signing, on OS-chosen ports."""

import json
import os
import tempfile
import time
import unittest

import harness

DS = "dsLifecycle01"

LIFECYCLE = {
    "project_id": "0123456789abcdef0123456789abcdef",
    "datasets": [{
        "dataset_id": DS,
        "dataset_name": "lifecycle",
        "auto_tasks": [
            {"task_id": "autoOk0000000000001", "task_name": "auto-ok",
             "document": {"result": {"total_sample_count": 100, "annotated_sample_count": 20,
                                     "unconfirmed_sample_count": 0}},
             "timeline": [
                 {"at": "0s", "status": -1, "progress": 0.0},
                 {"at": "3s", "status": 1, "code": "ModelArts.4902"},
                 {"at": "8s", "ramp": True, "progress": 100.0,
                  "result": {"unconfirmed_sample_count": 80}},
                 {"at": "9s", "status": 3}]},
            {"task_id": "autoFail00000000001", "task_name": "auto-fail",
             "timeline": [
                 {"at": "0s", "status": -1, "progress": 0.0},
                 {"at": "3s", "status": 1},
                 {"at": "6s", "status": 2, "error_code": "ModelArts.4654",
                  "error_msg": "Inference execution error."}]}],
        "workforce_tasks": [
            {"task_id": "teamTask00000000001", "task_name": "team-a",
             "document": {"sample_stats": {
                 "total_sample_count": 100, "unannotated_sample_count": 100,
                 "unreviewed_sample_count": 0, "uncheck_sample_count": 0,
                 "sampled_sample_count": 0, "rejected_sample_count": 0,
                 "accepted_sample_count": 0, "auto_annotation_sample_count": 0,
                 "deleted_sample_count": 0}},
             "timeline": [
                 {"at": "0s", "status": 6},
                 {"at": "3s", "status": 0},
                 {"at": "6s", "status": 1},
                 {"at": "10s", "ramp": True,
                  "sample_stats": {"unannotated_sample_count": 0, "uncheck_sample_count": 100}},
                 {"at": "12s", "status": 2, "checking_task_desc": {
                     "checking_task_id": "chk0000000000000001", "action": 0,
                     "checking_stats": {"sampling_num": 10, "sampled_sample_count": 10,
                                        "checked_sample_count": 4, "accepted_sample_count": 4,
                                        "rejected_sample_count": 0,
                                        "unchecked_sample_count": 6, "pass_rate": 1.0}}}]}],
    }],
}

ALL_IDS = {"auto_tasks": ["autoOk0000000000001", "autoFail00000000001"],
           "workforce_tasks": ["teamTask00000000001"]}


def write_scenario(testcase, scenario):
    d = tempfile.mkdtemp(prefix="lw-scn-")
    testcase.addCleanup(harness._rmtree, d)  # noqa: SLF001
    path = os.path.join(d, "scenario.json")
    with open(path, "w") as f:
        json.dump(scenario, f)
    return path


def transitions(events, task_id):
    return [(e["from"], e["to"]) for e in events if e.get("event") == "task_status_changed"
            and e.get("task_id") == task_id]


class Lifecycle(unittest.TestCase):
    def setUp(self):
        self.sim = harness.Sim.start(self, scenario=write_scenario(self, LIFECYCLE))

    def test_lifecycle_events_metrics_and_api(self):
        d = harness.Daemon.start(self, self.sim, [dict(dataset_id=DS, discover=False, **ALL_IDS)])
        d.wait_event("task_status_changed", 30, task_id="autoOk0000000000001", to="succeeded")
        d.wait_event("task_status_changed", 30, task_id="teamTask00000000001", to="accepting")
        ev = d.events()

        # Auto task: discovered once, then queuing -> running -> succeeded, in order.
        ok = [e for e in ev if e.get("task_id") == "autoOk0000000000001"]
        names = [e["event"] for e in ok]
        self.assertEqual(names.count("task_discovered"), 1)
        self.assertEqual(names[0], "task_discovered")
        self.assertEqual(transitions(ev, "autoOk0000000000001"),
                         [("queuing", "running"), ("running", "succeeded")])
        done = [e for e in ok if e.get("to") == "succeeded"][0]
        for field, value in (("kind", "auto"), ("dataset_id", DS), ("task_name", "auto-ok"),
                             ("from_code", 1), ("to_code", 3), ("level", "info")):
            self.assertEqual(done[field], value, field)
        # Running lasted from 3s to 9s of the scenario; polls are 1s apart.
        self.assertGreater(done["seconds_in_previous"], 3.5)
        self.assertLess(done["seconds_in_previous"], 8.5)
        self.assertRegex(done["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertTrue(any(e["event"] == "task_progress" for e in ok))

        # The failing task carries the API's error on its failed transition.
        d.wait_event("task_status_changed", 30, task_id="autoFail00000000001", to="failed")
        failed = d.events("task_status_changed", task_id="autoFail00000000001", to="failed")[0]
        self.assertEqual(failed["error_code"], "ModelArts.4654")
        self.assertEqual(failed["error_msg"], "Inference execution error.")
        self.assertEqual(failed["level"], "error")

        # Team task: created -> starting -> running -> accepting.
        self.assertEqual(transitions(d.events(), "teamTask00000000001"),
                         [("created", "starting"), ("starting", "running"),
                          ("running", "accepting")])

        # /metrics: state sets, ratios, transition counters.
        task = dict(dataset_id=DS, task_id="autoOk0000000000001")
        self.assertEqual(d.metric("modelarts_auto_task_status", status="succeeded", **task), 1)
        self.assertEqual(d.metric("modelarts_auto_task_status", status="running", **task), 0)
        self.assertEqual(d.metric("modelarts_auto_task_progress_ratio", **task), 1.0)
        self.assertEqual(d.metric("modelarts_task_transitions_total", kind="auto",
                                  **{"from": "queuing", "to": "running"}), 2)
        team = dict(dataset_id=DS, task_id="teamTask00000000001")
        self.assertEqual(d.metric("modelarts_workforce_task_status", status="accepting", **team), 1)
        self.assertEqual(d.metric("modelarts_workforce_acceptance_samples", state="checked",
                                  **team), 4)
        self.assertIsNotNone(d.metric("labelwatch_task_last_success_timestamp_seconds",
                                      kind="auto", **task))

        # /api/v1/tasks and readiness.
        t = d.task("autoOk0000000000001")
        self.assertEqual(t["status"], "succeeded")
        self.assertEqual(d.get("/readyz").status, 200)
        self.assertEqual(d.get("/healthz").status, 200)
        self.assertEqual(d.stop(), 0)

    def test_kill_9_and_restart_never_repeats_a_transition(self):
        d = harness.Daemon.start(self, self.sim, [dict(dataset_id=DS, discover=False, **ALL_IDS)])
        running = d.wait_event("task_status_changed", 20, task_id="autoOk0000000000001",
                               to="running")
        d.kill()
        d.restart()
        done = d.wait_event("task_status_changed", 30, task_id="autoOk0000000000001",
                            to="succeeded")
        d.wait_event("task_status_changed", 30, task_id="teamTask00000000001", to="accepting")
        ev = d.events()
        self.assertEqual(len(d.events("daemon_started")), 2)
        # Across both runs every transition and discovery is said exactly once.
        seen = {}
        for e in ev:
            if e["event"] in ("task_status_changed", "task_discovered"):
                key = (e["event"], e["task_id"], e.get("from"), e.get("to"))
                seen[key] = seen.get(key, 0) + 1
        self.assertEqual({k: v for k, v in seen.items() if v > 1}, {})
        # status_since survived the restart: the time in `running` spans the kill.
        def ts(e):
            return time.mktime(time.strptime(e["ts"][:19], "%Y-%m-%dT%H:%M:%S")) + \
                int(e["ts"][20:23]) / 1000.0
        span = ts(done) - ts(running)
        self.assertAlmostEqual(done["seconds_in_previous"], span, delta=1.5)
        self.assertEqual(d.stop(), 0)


class Discovery(unittest.TestCase):
    def test_new_task_gone_tasks_and_both_not_found_forms(self):
        sim = harness.Sim.start(self, scenario=write_scenario(self, LIFECYCLE))
        d = harness.Daemon.start(self, sim, [dict(dataset_id=DS, discover=True,
                                                  discover_interval="2s")])
        d.wait_event("task_discovered", 20, task_id="teamTask00000000001")
        new_id = sim.create_task(DS, "auto", {"task_id": "autoNew000000000001",
                                              "task_name": "created-later",
                                              "timeline": [{"at": "0s", "status": 1,
                                                            "progress": 5.0}]})
        created = time.monotonic()
        d.wait_event("task_discovered", 15, task_id=new_id)
        self.assertLess(time.monotonic() - created, 2.0 + 5.0)  # one discovery interval + slack

        # 400 ModelArts.4612 (the simulator's default) -> task_gone, series removed.
        labels = dict(dataset_id=DS, task_id=new_id)
        harness.poll_until(lambda: d.metric("modelarts_auto_task_info", **labels) is not None
                           or None, 10, what="series of the new task")
        sim.delete_task(new_id)
        gone = d.wait_event("task_gone", 15, task_id=new_id)
        self.assertEqual(gone["kind"], "auto")
        harness.poll_until(lambda: d.metric("modelarts_auto_task_info", **labels) is None, 10,
                           what="series removed")
        self.assertIsNone(d.metric("modelarts_auto_task_status", status="running", **labels))
        self.assertIsNone(d.task(new_id))
        seq = sim.last_seq()
        # 404 form for the team task.
        sim.settings(not_found_status=404)
        sim.delete_task("teamTask00000000001")
        d.wait_event("task_gone", 15, task_id="teamTask00000000001")
        # A gone task is not polled any more (discovery keeps running).
        mark = sim.last_seq()
        harness.poll_until(lambda: len(sim.journal(since=mark, endpoint="auto_task")) >= 4, 15,
                           what="other tasks keep being polled")
        self.assertEqual(sim.journal(since=mark, endpoint="auto_task", task_id=new_id), [])
        self.assertEqual(sim.journal(since=mark, endpoint="workforce_task",
                                     task_id="teamTask00000000001"), [])
        self.assertGreater(mark, seq)
        self.assertEqual(d.stop(), 0)


class Stall(unittest.TestCase):
    def test_stalled_then_cleared(self):
        scenario = {"datasets": [{"dataset_id": DS, "auto_tasks": [
            {"task_id": "autoStuck0000000001", "task_name": "stuck",
             "timeline": [{"at": "0s", "status": 1, "progress": 40.0}]}]}]}
        sim = harness.Sim.start(self, scenario=write_scenario(self, scenario))
        d = harness.Daemon.start(self, sim, [dict(dataset_id=DS, discover=False,
                                                  auto_tasks=["autoStuck0000000001"])],
                                 poll={"stall_after": "3s"})
        stalled = d.wait_event("task_stalled", 20, task_id="autoStuck0000000001")
        self.assertEqual(stalled["level"], "warning")
        self.assertEqual(d.task("autoStuck0000000001")["stalled"], True)
        sim.patch_task("autoStuck0000000001", {"progress": 55.0}, freeze=True)
        cleared = d.wait_event("task_stall_cleared", 20, task_id="autoStuck0000000001")
        self.assertEqual(cleared["reason"], "progress")
        self.assertEqual(len(d.events("task_stalled", task_id="autoStuck0000000001")), 1)
        self.assertEqual(d.stop(), 0)


class SlowTask(unittest.TestCase):
    def test_one_slow_task_does_not_delay_the_others(self):
        ids = [f"autoTask{n:011d}" for n in range(4)]
        scenario = {"datasets": [{"dataset_id": DS, "auto_tasks": [
            {"task_id": i, "timeline": [{"at": "0s", "status": 1, "progress": 10.0}]}
            for i in ids]}]}
        sim = harness.Sim.start(self, scenario=write_scenario(self, scenario))
        d = harness.Daemon.start(self, sim, [dict(dataset_id=DS, discover=False, auto_tasks=ids)],
                                 poll={"request_timeout": "10s"})
        d.wait_event("task_discovered", 15, count=4)
        slow = ids[0]
        sim.arm_fault(kind="delay", endpoint="auto_task", task_id=slow, delay="4s")
        mark = sim.last_seq()
        def slow_answers():
            done = [e for e in sim.journal(since=mark, task_id=slow)
                    if e.get("duration_ms") is not None]
            return done if len(done) >= 2 else None
        slow_entries = harness.poll_until(slow_answers, 20, what="two slow answers")
        self.assertTrue(all(e["duration_ms"] >= 3900 for e in slow_entries), slow_entries)
        slow_times = [e["time_ms"] for e in slow_entries]
        entries = [e for e in sim.journal(since=mark, endpoint="auto_task")
                   if e["time_ms"] <= slow_times[-1] + slow_entries[-1]["duration_ms"]]
        for other in ids[1:]:
            times = [e["time_ms"] for e in entries if e["task_id"] == other]
            # Polled throughout the slow task's requests, at the active interval (1s +10%).
            self.assertGreaterEqual(len(times), 4, other)
            gaps = [b - a for a, b in zip(times, times[1:])]
            self.assertLess(max(gaps), 1600, (other, gaps))
            self.assertLess(times[0], slow_times[-1])
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
