#!/usr/bin/env python3
"""SIGHUP reloads (issue 7): a valid file is applied as a difference, an invalid one is
rejected and the old configuration keeps running. Checked from the outside: the events
labelwatchd writes, its /metrics, the simulator's request journal (what was polled,
when), and the daemon's TCP connections to the simulator (/proc), so "connections kept"
is seen on the wire, not taken from the daemon's word."""

import json
import os
import re
import signal
import tempfile
import time
import unittest

import harness

DS_A = "dsReloadA0000001"
DS_B = "dsReloadB0000001"
TASK_A = "autoReloadA000001"
TASK_B = "autoReloadB000001"
TEAM_B = "teamReloadB000001"


def running_task(task_id, name):
    # Runs for an hour: an active task, polled every active_interval.
    return {"task_id": task_id, "task_name": name,
            "timeline": [{"at": "0s", "status": 1, "progress": 1.0, "code": "ModelArts.4902"},
                         {"at": "1h", "ramp": True, "progress": 100.0}]}


SCENARIO = {
    "project_id": "0123456789abcdef0123456789abcdef",
    "datasets": [
        {"dataset_id": DS_A, "dataset_name": "a", "auto_tasks": [running_task(TASK_A, "a")]},
        {"dataset_id": DS_B, "dataset_name": "b", "auto_tasks": [running_task(TASK_B, "b")],
         "workforce_tasks": [{"task_id": TEAM_B, "task_name": "team-b",
                              "timeline": [{"at": "0s", "status": 1}]}]},
    ],
}

WATCH_A = dict(dataset_id=DS_A, discover=False, auto_tasks=[TASK_A])
WATCH_B = dict(dataset_id=DS_B, discover=True, discover_interval="2s")


def write_scenario(testcase):
    d = tempfile.mkdtemp(prefix="lw-reload-scn-")
    testcase.addCleanup(harness._rmtree, d)  # noqa: SLF001
    path = os.path.join(d, "scenario.json")
    with open(path, "w") as f:
        json.dump(SCENARIO, f)
    return path


def ts_ms(event):
    """An event's RFC 3339 ts as Unix milliseconds."""
    import datetime
    t = datetime.datetime.strptime(event["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def daemon_sockets_to(pid, port):
    """Local ports of pid's ESTABLISHED TCP connections to 127.0.0.1:port (from /proc)."""
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", target)
        if m:
            inodes.add(m.group(1))
    ports = set()
    with open(f"/proc/{pid}/net/tcp") as f:
        next(f)
        for line in f:
            cols = line.split()
            local, remote, st, inode = cols[1], cols[2], cols[3], cols[9]
            if st != "01" or inode not in inodes:
                continue
            rhost, rport = remote.split(":")
            if rhost == "0100007F" and int(rport, 16) == port:
                ports.add(int(local.split(":")[1], 16))
    return ports


class Reload(unittest.TestCase):
    def setUp(self):
        self.sim = harness.Sim.start(self, scenario=write_scenario(self))

    def start(self, watches, poll=None):
        d = harness.Daemon.start(self, self.sim, watches, poll=poll)
        self.watches = watches
        self.poll = poll
        return d

    def rewrite(self, d, watches=None, poll=None, raw=None):
        """Writes a new config (or raw text) into the daemon's file and sends SIGHUP."""
        if raw is None:
            raw = harness.daemon_config(self.sim, watches if watches is not None else self.watches,
                                        poll=poll, events_log=d.events_path,
                                        state_path=d.state_path)
        with open(d.config_path, "w") as f:
            f.write(raw)
        d.process.proc.send_signal(signal.SIGHUP)

    def polls(self, task_id, since=0):
        return self.sim.journal(since=since, endpoint="auto_task", task_id=task_id)

    def wait_polls(self, task_id, n, since=0, timeout=20):
        return harness.poll_until(
            lambda: (lambda e: e if len(e) >= n else None)(self.polls(task_id, since)),
            timeout, what=f"{n} polls of {task_id} after seq {since}")

    def test_reload_adds_and_removes_a_watch(self):
        d = self.start([WATCH_A])
        self.wait_polls(TASK_A, 2)
        self.assertEqual(self.polls(TASK_B), [])
        self.assertEqual(d.metric("labelwatch_config_last_reload_successful"), 1)

        # Add dataset B (discovery): its tasks are found, announced and polled.
        seq = self.sim.last_seq()
        self.rewrite(d, [WATCH_A, WATCH_B])
        ev = d.wait_event("config_reloaded")
        self.assertEqual(ev["watches"], 2)
        self.assertEqual(ev["path"], d.config_path)
        self.assertIs(ev["connections_kept"], True)
        for task in (TASK_B, TEAM_B):
            d.wait_event("task_discovered", task_id=task, dataset_id=DS_B)
        self.wait_polls(TASK_B, 2, since=seq)
        self.assertTrue(self.sim.journal(since=seq, endpoint="auto_task_list", dataset_id=DS_B))
        harness.poll_until(lambda: d.metric("modelarts_auto_task_status", task_id=TASK_B,
                                            status="running") == 1, 10, what="B's series")
        self.assertEqual(d.metric("labelwatch_tracked_tasks", kind="auto"), 2)
        self.assertEqual(d.metric("labelwatch_tracked_tasks", kind="workforce"), 1)

        # Remove dataset A: its series leave /metrics and nobody polls it any more.
        self.rewrite(d, [WATCH_B])
        ev = d.wait_event("config_reloaded", count=2)
        self.assertEqual(ev["watches"], 1)
        reloaded_at = ts_ms(ev)
        seq = self.sim.last_seq()
        text = d.metrics()
        self.assertNotIn(TASK_A, text)
        self.assertIn(TASK_B, text)
        self.assertEqual(d.metric("labelwatch_tracked_tasks", kind="auto"), 1)
        # Watch B for a while (three more polls, about three active intervals): A stays quiet.
        self.wait_polls(TASK_B, 3, since=seq)
        late = [e for e in self.polls(TASK_A) if e["time_ms"] > reloaded_at + 500]
        self.assertEqual(late, [], "a removed watch was still polled")
        self.assertNotIn(TASK_A, [t["task_id"] for t in d.tasks()])
        self.assertEqual(d.stop(), 0)

    def test_invalid_reload_is_rejected_and_polling_continues(self):
        d = self.start([WATCH_A])
        self.wait_polls(TASK_A, 1)
        with open(d.config_path) as f:
            good = f.read()
        # Two mistakes: a bad duration and an unknown key.
        bad = good.replace('active_interval = "1s"', 'active_interval = "fast"').replace(
            'listen = "127.0.0.1:0"', 'listen = "127.0.0.1:0"\nbacklog = 5')
        self.assertNotEqual(bad, good)
        self.rewrite(d, raw=bad)
        ev = d.wait_event("config_rejected")
        self.assertEqual(ev["level"], "error")
        self.assertEqual(ev["path"], d.config_path)
        errors = ev["errors"]
        self.assertEqual(len(errors), 2, errors)
        joined = "\n".join(errors)
        self.assertRegex(joined, re.escape(d.config_path) + r":\d+: poll\.active_interval: ")
        self.assertRegex(joined, re.escape(d.config_path) + r":\d+: server\.backlog: unknown key")
        self.assertEqual(d.metric("labelwatch_config_last_reload_successful"), 0)
        self.assertEqual(d.events("config_reloaded"), [])

        # The old configuration keeps running: A is still polled every second.
        seq = self.sim.last_seq()
        self.wait_polls(TASK_A, 3, since=seq)
        self.assertEqual(d.get("/healthz").status, 200)

        # A good file again: accepted, the gauge goes back to 1.
        self.rewrite(d, raw=good)
        d.wait_event("config_reloaded")
        self.assertEqual(d.metric("labelwatch_config_last_reload_successful"), 1)
        self.assertEqual(d.stop(), 0)

    def test_changed_interval_applies_and_connections_are_kept(self):
        poll = {"active_interval": "1s"}
        d = self.start([WATCH_A], poll=poll)
        self.wait_polls(TASK_A, 4)
        before = self.polls(TASK_A)
        sockets = harness.poll_until(lambda: daemon_sockets_to(d.process.pid, self.sim.port), 10,
                                     what="the daemon's connection to the simulator")

        # Only the interval changes: same endpoint, CA, proxy, timeout and limits.
        self.rewrite(d, poll={"active_interval": "3s"})
        ev = d.wait_event("config_reloaded")
        self.assertIs(ev["connections_kept"], True)
        seq = self.sim.last_seq()
        after = self.wait_polls(TASK_A, 4, since=seq, timeout=30)
        # Every connection open before the reload is still open and still used.
        still = daemon_sockets_to(d.process.pid, self.sim.port)
        self.assertTrue(sockets <= still, f"connections before {sockets}, after {still}")

        def mean_gap(entries):
            t = [e["time_ms"] / 1000 for e in entries]
            g = [b - a for a, b in zip(t, t[1:])]
            return sum(g) / len(g)

        self.assertLess(mean_gap(before[-4:]), 1.5)
        self.assertGreater(mean_gap(after[1:4]), 2.5)  # 3 s +-10 % jitter
        self.assertLess(mean_gap(after[1:4]), 3.6)

        # A change that needs a new HTTPS client (the request timeout) replaces the pool:
        # the old connections close, new ones carry the polls.
        self.rewrite(d, poll={"active_interval": "1s", "request_timeout": "4s"})
        ev = d.wait_event("config_reloaded", count=2)
        self.assertIs(ev["connections_kept"], False)
        seq = self.sim.last_seq()
        self.wait_polls(TASK_A, 2, since=seq)
        harness.poll_until(lambda: not (sockets & daemon_sockets_to(d.process.pid, self.sim.port)),
                           10, what="the old connections to close")
        self.assertTrue(daemon_sockets_to(d.process.pid, self.sim.port))
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
