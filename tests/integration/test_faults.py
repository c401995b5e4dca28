#!/usr/bin/env python3
"""Fault campaign (issue 8): labelwatchd against labelwatch-sim with every fault kind the
simulator can inject, each on its own task while the others run, plus whole-endpoint
failures: the simulator killed and restarted on the same port, a name that does not
resolve, a certificate for another host, a CA the daemon does not trust, and a server
that accepts connections and never answers.

For every fault: labelwatchd keeps running, every other task keeps being polled
successfully (simulator journal), the fault is visible with the right classification
(api_error event `reason`, labelwatch_poll_errors_total{kind,reason},
labelwatch_api_requests_total{operation,code}) or, for the faults a tolerant reader
must absorb (numbers as strings, unknown status, missing optional objects, extra
fields, a 5 MB document), the task keeps updating with the right values; and the task
recovers when the fault clears (a fresh successful poll, last_error cleared in
/api/v1/tasks)."""

import datetime
import json
import os
import signal
import socket
import tempfile
import threading
import time
import types
import unittest

import harness

DS = "dsFaults0000000001"

# (task id, kind, fault spec, expectation). Expectation: reason/code for a failure, or
# "ok" for faults that must decode. Each fault is armed on its own task only.
ERROR_FAULTS = [
    ("autoThrottle0000001", "auto", {"kind": "throttle", "retry_after": 1},
     {"reason": "throttled", "code": "429", "http_status": 429}),
    ("teamError50300001", "workforce", {"kind": "error", "status": 503},
     {"reason": "server_error", "code": "503", "http_status": 503}),
    ("autoError50000001", "auto", {"kind": "error", "status": 500},
     {"reason": "server_error", "code": "500", "http_status": 500}),
    ("autoError50200001", "auto", {"kind": "error", "status": 502},
     {"reason": "server_error", "code": "502", "http_status": 502}),
    ("autoDelay000000001", "auto", {"kind": "delay", "delay": "5s"},
     {"reason": "timeout", "code": "timeout", "detail": "timed out after 2s"}),
    ("teamHang000000001", "workforce", {"kind": "hang"},
     {"reason": "timeout", "code": "timeout", "detail": "timed out after 2s"}),
    ("autoClose000000001", "auto", {"kind": "close"},
     {"reason": "network", "code": "network"}),
    ("teamReset00000001", "workforce", {"kind": "reset"},
     {"reason": "network", "code": "network", "detail": "response truncated"}),
    ("autoTruncated00001", "auto", {"kind": "truncated_json"},
     {"reason": "decode", "code": "200", "http_status": 200, "detail": "invalid JSON"}),
    ("teamMalformed0001", "workforce", {"kind": "malformed_json"},
     {"reason": "decode", "code": "200", "http_status": 200, "detail": "invalid JSON"}),
    ("autoOversized00001", "auto", {"kind": "oversized"},
     {"reason": "body_too_large", "code": "body_too_large",
      "detail": "response body exceeds the limit of 16777216 bytes"}),
    ("autoBadUtf8000001", "auto", {"kind": "invalid_utf8"},
     {"reason": "decode", "code": "200", "http_status": 200}),
]
TOLERATED_FAULTS = [
    ("autoFiveMB00000001", "auto", {"kind": "oversized", "bytes": 5 * 1024 * 1024}, {}),
    ("autoStrings0000001", "auto", {"kind": "numbers_as_strings"}, {}),
    ("teamUnknown000001", "workforce", {"kind": "unknown_status", "status_code": 42},
     {"status": "unknown", "code": 42}),
    ("autoMissing0000001", "auto", {"kind": "missing_optional"}, {}),
    ("teamExtra00000001", "workforce", {"kind": "extra_fields"}, {}),
]
CONTROL = [("autoControl000001", "auto"), ("autoControl000002", "auto"),
           ("teamControl000001", "workforce"), ("teamControl000002", "workforce")]

OPERATION = {"auto": "get_auto_task", "workforce": "get_workforce_task"}
ENDPOINT = {"auto": "auto_task", "workforce": "workforce_task"}

FAST_POLL = {"active_interval": "1s", "idle_interval": "2s", "terminal_interval": "5s",
             "request_timeout": "2s", "max_in_flight": 64, "max_rate": 500.0}


def auto_task(task_id):
    return {"task_id": task_id, "task_name": task_id.lower(),
            "document": {"result": {"total_sample_count": 1000, "annotated_sample_count": 100,
                                    "unconfirmed_sample_count": 0}},
            "timeline": [{"at": "0s", "status": 1, "progress": 10.0, "code": "ModelArts.4902"},
                         {"at": "600s", "ramp": True, "progress": 90.0}]}


def team_task(task_id):
    return {"task_id": task_id, "task_name": task_id.lower(),
            "timeline": [{"at": "0s", "status": 1}]}


def scenario(tasks):
    autos = [auto_task(t) for t, kind in tasks if kind == "auto"]
    teams = [team_task(t) for t, kind in tasks if kind == "workforce"]
    return {"datasets": [{"dataset_id": DS, "auto_tasks": autos, "workforce_tasks": teams}]}


def write_json(testcase, value, name="scenario.json"):
    d = tempfile.mkdtemp(prefix="lw-faults-")
    testcase.addCleanup(harness._rmtree, d)  # noqa: SLF001
    path = os.path.join(d, name)
    with open(path, "w") as f:
        json.dump(value, f)
    return path


def watch_of(tasks):
    return {"dataset_id": DS, "discover": False,
            "auto_tasks": [t for t, k in tasks if k == "auto"],
            "workforce_tasks": [t for t, k in tasks if k == "workforce"]}


def parse_ts(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def answered_ok(entries, task_id, with_fault=None):
    """Journal entries of successful detail answers for a task (optionally only those a
    fault shaped, or only those without a fault)."""
    out = []
    for e in entries:
        if e.get("task_id") != task_id or e.get("method") != "GET" or e.get("status") != 200:
            continue
        if with_fault is True and not e.get("fault"):
            continue
        if with_fault is False and e.get("fault"):
            continue
        out.append(e)
    return out


def succeeded_since(d, task_id, since):
    """The task's view when it had a successful poll after `since` (epoch seconds) and no
    error is recorded; None otherwise."""
    t = d.task(task_id)
    if t is None or t.get("last_error") is not None or not t.get("last_success"):
        return None
    return t if parse_ts(t["last_success"]) > since else None


class FaultKinds(unittest.TestCase):
    """Every fault kind at once, each on its own task, next to healthy control tasks."""

    def test_every_fault_kind_is_classified_isolated_and_recovered_from(self):
        faulted = [(t, k) for t, k, _, _ in ERROR_FAULTS + TOLERATED_FAULTS]
        tasks = faulted + CONTROL
        sim = harness.Sim.start(self, scenario=write_json(self, scenario(tasks)))
        d = harness.Daemon.start(self, sim, [watch_of(tasks)], poll=FAST_POLL)

        # Everything is polled successfully before the faults.
        start = time.time()
        for task_id, _ in tasks:
            harness.poll_until(lambda t=task_id: d.task(t) and d.task(t).get("last_success"),
                               30, what=f"first successful poll of {task_id}")

        mark = sim.last_seq()
        armed_at = time.time()
        for task_id, kind, spec, _ in ERROR_FAULTS + TOLERATED_FAULTS:
            sim.arm_fault(endpoint=ENDPOINT[kind], task_id=task_id, **spec)

        # Each failure is an api_error with the right classification.
        for task_id, kind, _, want in ERROR_FAULTS:
            ev = d.wait_event("api_error", 40, task_id=task_id)
            with self.subTest(fault=task_id):
                self.assertEqual(ev["reason"], want["reason"], ev)
                self.assertEqual(ev["operation"], OPERATION[kind], ev)
                self.assertEqual(ev["kind"], kind, ev)
                self.assertEqual(ev.get("http_status"), want.get("http_status"), ev)
                if "detail" in want:
                    self.assertIn(want["detail"], ev.get("detail", ""), ev)
                self.assertEqual(ev["level"], "warning")
                # The same failure repeating is one event, not one per poll.
                self.assertEqual(len(d.events("api_error", task_id=task_id)), 1)

        # The faults that a tolerant reader must absorb leave the task updating.
        for task_id, kind, spec, want in TOLERATED_FAULTS:
            entry = harness.poll_until(
                lambda t=task_id: answered_ok(sim.journal(since=mark, task_id=t), t, True),
                40, what=f"a {spec['kind']} answer for {task_id}")[0]
            harness.poll_until(
                lambda t=task_id, e=entry: (d.task(t) or {}).get("last_success")
                and parse_ts(d.task(t)["last_success"]) * 1000 >= e["time_ms"] - 5,
                20, what=f"{task_id} updated from a {spec['kind']} answer")
        unknown = d.wait_event("task_status_changed", 20, task_id="teamUnknown000001",
                               to="unknown")
        self.assertEqual((unknown["from"], unknown["to_code"]), ("running", 42))
        # Numbers that arrive as strings keep their values (progress percent -> ratio).
        labels = {"dataset_id": DS, "task_id": "autoStrings0000001"}
        want_ratio = sim.task("autoStrings0000001")["progress"] / 100.0
        got_ratio = d.metric("modelarts_auto_task_progress_ratio", **labels)
        self.assertAlmostEqual(got_ratio, want_ratio, delta=0.01)

        # Keep the faults on a little longer, so "the others keep updating" is measured
        # over a real window, then look at the whole window.
        harness.poll_until(lambda: time.time() - armed_at >= 8, 10, what="a fault window")
        self.assertEqual(d.get("/healthz").status, 200)
        self.assertTrue(d.process.alive())
        window = sim.journal(since=mark)
        cleared_at = time.time()
        clear_mark = sim.last_seq()
        sim.clear_faults()
        for task_id, _ in CONTROL + [(t, k) for t, k, _, _ in TOLERATED_FAULTS]:
            times = [e["time_ms"] for e in answered_ok(window, task_id)]
            with self.subTest(updating=task_id):
                self.assertGreaterEqual(len(times), 5, task_id)
                gaps = [b - a for a, b in zip([armed_at * 1000] + times, times)]
                self.assertLess(max(gaps), 2600, (task_id, gaps))
        for task_id, _ in CONTROL:
            self.assertEqual(d.events("api_error", task_id=task_id), [], task_id)
        for task_id, _, _, _ in TOLERATED_FAULTS:
            self.assertEqual(d.events("api_error", task_id=task_id), [], task_id)

        # Counters carry the same classification as the events.
        for task_id, kind, _, want in ERROR_FAULTS:
            with self.subTest(metric=task_id):
                n = d.metric("labelwatch_poll_errors_total", kind=kind, reason=want["reason"])
                self.assertIsNotNone(n, want)
                self.assertGreaterEqual(n, 1)
                n = d.metric("labelwatch_api_requests_total", operation=OPERATION[kind],
                             code=want["code"])
                self.assertIsNotNone(n, want)
                self.assertGreaterEqual(n, 1)

        # Recovery: a fresh successful poll of every faulted task, errors cleared.
        for task_id, _ in faulted:
            harness.poll_until(lambda t=task_id: succeeded_since(d, t, cleared_at), 30,
                               what=f"{task_id} recovered")
            fresh = answered_ok(sim.journal(since=clear_mark, task_id=task_id), task_id, False)
            self.assertTrue(fresh, task_id)
        back = d.wait_event("task_status_changed", 20, task_id="teamUnknown000001",
                            to="running")
        self.assertEqual(back["from_code"], 42)
        self.assertEqual(d.get("/readyz").status, 200)
        self.assertLess(time.time() - start, 120)
        self.assertEqual(d.stop(), 0)


class SimulatorRestart(unittest.TestCase):
    def test_the_simulator_killed_and_restarted_on_the_same_port(self):
        tasks = [("autoRestart0000001", "auto"), ("teamRestart000001", "workforce")]
        path = write_json(self, scenario(tasks))
        sim = harness.Sim.start(self, scenario=path)
        d = harness.Daemon.start(self, sim, [watch_of(tasks)], poll=FAST_POLL)
        for task_id, _ in tasks:
            harness.poll_until(lambda t=task_id: d.task(t) and d.task(t).get("last_success"),
                               20, what=f"first poll of {task_id}")

        port = sim.port
        tls = os.path.join(sim.workdir, "tls")
        sim.kill()
        down_at = time.time()
        for task_id, kind in tasks:
            ev = d.wait_event("api_error", 30, task_id=task_id)
            self.assertEqual(ev["reason"], "network", ev)
            self.assertIn("127.0.0.1:%d" % port, ev.get("detail", ""), ev)
            self.assertIsNotNone(d.task(task_id)["last_error"])
        self.assertEqual(d.get("/healthz").status, 200)
        self.assertGreaterEqual(d.metric("labelwatch_api_requests_total",
                                         operation="get_auto_task", code="network"), 1)

        again = harness.Sim.start(self, scenario=path, port=port,
                                  tls_files=(os.path.join(tls, "server.pem"),
                                             os.path.join(tls, "server.key"), sim.ca_file))
        self.assertEqual(again.port, port)
        for task_id, _ in tasks:
            harness.poll_until(lambda t=task_id: succeeded_since(d, t, down_at), 30,
                               what=f"{task_id} polled again after the restart")
            self.assertTrue(answered_ok(again.journal(since=0, task_id=task_id), task_id))
        self.assertTrue(d.process.alive())
        self.assertEqual(d.stop(), 0)


class SilentServer:
    """Accepts TCP connections and never sends a byte (not even a TLS handshake)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            self.held.append(conn)

    def close(self):
        self.running = False
        self.thread.join()
        for c in self.held:
            c.close()
        self.sock.close()


def endpoint_like(sim, base_url, ca_file):
    """Something daemon_config can read: the simulator's identity at another URL/CA."""
    return types.SimpleNamespace(base_url=base_url, project_id=sim.project_id, ca_file=ca_file,
                                 auth="aksk", ak=sim.ak, sk=sim.sk, password=sim.password)


class EndpointFailures(unittest.TestCase):
    """Failures of the whole endpoint, four daemons side by side; each then gets a good
    endpoint through SIGHUP and recovers."""

    def test_dns_tls_and_silent_server_then_recovery_by_reload(self):
        tasks = [("autoEndpoint000001", "auto")]
        path = write_json(self, scenario(tasks))
        good = harness.Sim.start(self, scenario=path)
        wrong_host = harness.Sim.start(self, scenario=path, args=["--tls-name", "wrong.example"])
        silent = SilentServer()
        self.addCleanup(silent.close)

        cases = {
            "dns": (endpoint_like(good, "https://does-not-exist.invalid", good.ca_file),
                    "network", "network", "cannot resolve does-not-exist.invalid"),
            "wrong_host": (wrong_host, "tls", "tls",
                           "certificate verify failed: hostname mismatch"),
            "untrusted_ca": (endpoint_like(good, good.base_url, wrong_host.ca_file), "tls", "tls",
                             "certificate verify failed: unable to get local issuer certificate"),
            "silent": (endpoint_like(good, f"https://127.0.0.1:{silent.port}", good.ca_file),
                       "timeout", "timeout", "timed out after 2s in the TLS handshake"),
        }
        daemons = {name: harness.Daemon.start(self, target, [watch_of(tasks)], poll=FAST_POLL)
                   for name, (target, _, _, _) in cases.items()}
        for name, (target, reason, code, detail) in cases.items():
            d = daemons[name]
            with self.subTest(case=name):
                ev = d.wait_event("api_error", 30, task_id=tasks[0][0])
                self.assertEqual(ev["reason"], reason, ev)
                self.assertIn(detail, ev.get("detail", ""), ev)
                self.assertNotIn("http_status", ev)
                self.assertGreaterEqual(d.metric("labelwatch_poll_errors_total", kind="auto",
                                                 reason=reason) or 0, 1)
                self.assertGreaterEqual(d.metric("labelwatch_api_requests_total",
                                                 operation="get_auto_task", code=code) or 0, 1)
                self.assertEqual(d.get("/healthz").status, 200)
                self.assertEqual(d.get("/readyz").status, 503)
                self.assertIn(detail, d.task(tasks[0][0])["last_error"]["message"])
        self.assertGreaterEqual(silent.accepted, 1)

        # Point every daemon at the good simulator and reload: all recover.
        for name, d in daemons.items():
            with open(d.config_path, "w") as f:
                f.write(harness.daemon_config(good, [watch_of(tasks)], poll=FAST_POLL,
                                              events_log=d.events_path, state_path=d.state_path))
            reloaded_at = time.time()
            d.process.proc.send_signal(signal.SIGHUP)
            d.wait_event("config_reloaded", 10)
            harness.poll_until(lambda d=d, t=reloaded_at: succeeded_since(d, tasks[0][0], t), 30,
                               what=f"{name}: recovered after the reload")
            harness.poll_until(lambda d=d: d.get("/readyz").status == 200, 10,
                               what=f"{name}: ready")
        for d in daemons.values():
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
