#!/usr/bin/env python3
"""SIGTERM and SIGINT (issue 7): stop scheduling, let in-flight requests finish within
the drain bound (10 s) and abandon them after it, flush and close the state database,
exit 0, well inside the unit's TimeoutStopSec (30 s). The in-flight requests are real:
the simulator holds them (a `hang` fault, or a `delay` shorter than the bound)."""

import os
import signal
import sqlite3
import time
import unittest

import harness

DS = "WxCREuCkBSAlQr9xrde"
AUTO = "XGrRZuCV1qmMxnsmD5u"
TEAM = "iYZx7gScPUozOXner9k"
WATCH = [dict(dataset_id=DS, discover=False, auto_tasks=[AUTO], workforce_tasks=[TEAM])]
DRAIN_BOUND = 10.0


def integrity(path):
    """PRAGMA integrity_check of a closed database, opened read-only."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


class Shutdown(unittest.TestCase):
    def setUp(self):
        self.sim = harness.Sim.start(self, scenario="builtin:seeds")

    def start(self, **poll):
        # request_timeout above the drain bound, so a held request is still in flight
        # when the bound runs out.
        p = {"request_timeout": "60s"}
        p.update(poll)
        d = harness.Daemon.start(self, self.sim, WATCH, poll=p)
        d.wait_event("task_discovered", task_id=AUTO)
        d.wait_event("task_discovered", task_id=TEAM)
        return d

    def hold_next_poll(self, **fault):
        """Arms a one-shot fault on the auto task and waits until a poll is caught in it."""
        self.sim.arm_fault(endpoint="auto_task", task_id=AUTO, count=1, **fault)
        harness.poll_until(lambda: not self.sim.faults(), 10, what="a poll to hit the fault")

    def terminate(self, d, signo=signal.SIGTERM):
        """Sends signo; returns (exit code, seconds it took, wall-clock ms at the signal)."""
        wall_ms = int(time.time() * 1000)
        t = time.monotonic()
        d.process.proc.send_signal(signo)
        code = d.process.proc.wait(timeout=DRAIN_BOUND + 20)
        return code, time.monotonic() - t, wall_ms

    def test_sigterm_abandons_a_hung_request_after_the_bound(self):
        d = self.start()
        self.hold_next_poll(kind="hang")
        code, took, at_ms = self.terminate(d)
        self.assertEqual(code, 0, d.process.log_tail())
        # It waited for the request (the bound), then gave up on it, and no later.
        self.assertGreater(took, DRAIN_BOUND - 0.5, "exited before the drain bound")
        self.assertLess(took, DRAIN_BOUND + 5, "took far longer than the drain bound")
        log = d.process.stderr()
        self.assertIn("stopping: finishing in-flight requests (at most 10s)", log)
        self.assertIn("abandoned requests still in flight after the bound", log)
        self.assertIn("stopped", log.splitlines()[-1])
        # Scheduling stopped at the signal: the team task (polled every second) was not
        # polled again while the hung request drained.
        late = [e for e in self.sim.journal() if e["time_ms"] > at_ms + 1000]
        self.assertEqual(late, [], "requests were started after SIGTERM")
        # The database is whole, closed cleanly (no WAL left to replay), and holds both tasks.
        self.assertEqual(integrity(d.state_path), "ok")
        wal = d.state_path + "-wal"
        self.assertFalse(os.path.exists(wal) and os.path.getsize(wal) > 0, "WAL not checkpointed")
        con = sqlite3.connect(f"file:{d.state_path}?mode=ro", uri=True)
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        con.close()
        self.assertTrue(tables, "no tables in the state database")

        # The next start continues from that state: nothing is announced twice.
        d.restart()
        d.wait_event("daemon_started", count=2)
        harness.poll_until(lambda: d.metric("modelarts_auto_task_status", task_id=AUTO,
                                            status="running") is not None, 15,
                           what="the restarted daemon to poll")
        self.assertEqual(len(d.events("task_discovered", task_id=AUTO)), 1)
        self.assertEqual(d.stop(), 0)

    def test_sigterm_lets_a_slow_request_finish(self):
        d = self.start()
        self.hold_next_poll(kind="delay", delay="3s")
        code, took, _ = self.terminate(d)
        self.assertEqual(code, 0, d.process.log_tail())
        self.assertGreater(took, 2.0, "did not wait for the request in flight")
        self.assertLess(took, DRAIN_BOUND - 2, "waited for the bound instead of the request")
        log = d.process.stderr()
        self.assertNotIn("abandoned", log)
        held = [e for e in self.sim.journal(endpoint="auto_task", task_id=AUTO)
                if (e.get("fault") or "").startswith("delay")]
        self.assertEqual(len(held), 1)
        self.assertEqual(held[0]["status"], 200)
        self.assertGreaterEqual(held[0]["duration_ms"], 2900)
        self.assertEqual(integrity(d.state_path), "ok")

    def test_sigint_stops_like_sigterm(self):
        d = self.start()
        code, took, _ = self.terminate(d, signal.SIGINT)
        self.assertEqual(code, 0, d.process.log_tail())
        self.assertLess(took, 5)
        self.assertEqual(integrity(d.state_path), "ok")

    def test_signals_during_the_drain_change_nothing(self):
        # A second Ctrl-C, timeout(1) signalling its whole process group, or a reload
        # racing a stop: the stop that began goes on and ends cleanly.
        d = self.start()
        self.hold_next_poll(kind="delay", delay="3s")
        d.process.proc.send_signal(signal.SIGTERM)
        harness.poll_until(lambda: "stopping" in d.process.stderr(), 5, what="stopping")
        for signo in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
            d.process.proc.send_signal(signo)
        code = d.process.proc.wait(timeout=DRAIN_BOUND + 20)
        self.assertEqual(code, 0, d.process.log_tail())
        log = d.process.stderr()
        self.assertIn("stopped", log)
        self.assertNotIn("reload", log.split("stopping", 1)[1])
        self.assertEqual(integrity(d.state_path), "ok")


if __name__ == "__main__":
    unittest.main()
