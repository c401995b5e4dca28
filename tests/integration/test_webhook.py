#!/usr/bin/env python3
"""The webhook event sink of labelwatchd (issue 4, "Event sinks"), end to end.

labelwatchd watches labelwatch-sim and POSTs every event to a webhook receiver written
here: HTTPS on loopback with the simulator's throw-away CA ([events] webhook_ca_file),
verifying the HMAC-SHA256 signature of every body. The receiver can refuse events
(503 with Retry-After, or 4xx) and can go down entirely (closed port). Checked: every
event arrives signed, once, in the order of the daemon's own event log; an outage loses
nothing up to the queue bound and beyond it the drops are counted in
labelwatch_events_dropped_total{sink="webhook"}; refused events are not retried; a
reload changes the key; SIGTERM flushes the queue within its bound; and the secret (and
the token in the URL's path) appear in no output anywhere."""

import hashlib
import hmac
import http.server
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import daemon_util
import harness

DS = "dsWebhook000000001"
AUTO = "autoHook0000000001"

SCENARIO = {
    "project_id": "0123456789abcdef0123456789abcdef",
    "datasets": [{
        "dataset_id": DS, "dataset_name": "webhook",
        "auto_tasks": [
            {"task_id": AUTO, "task_name": "hooked",
             "timeline": [
                 {"at": "0s", "status": -1, "progress": 0.0},
                 {"at": "2s", "status": 1},
                 {"at": "5s", "ramp": True, "progress": 100.0},
                 {"at": "6s", "status": 3}]}],
        "workforce_tasks": [],
    }],
}

WATCH = [dict(dataset_id=DS, discover=True, discover_interval="1s")]


class Receiver:
    """An HTTPS webhook receiver. Every request is recorded in `attempts`
    (delivery id, event name, status answered, index of the key that verified the
    signature or None); `accepted` holds the parsed bodies answered 2xx, in arrival order.

    mode: "ok" answers 204; "unavailable" answers 503 with Retry-After: 1; "hang" holds
    each request until `release` is set, then closes the connection unanswered;
    refuse(event doc) -> status or None overrides per event. down()/up() close and reopen the port
    (existing connections are cut)."""

    def __init__(self, testcase, keys, cert, key):
        self.keys = [k.encode() for k in keys]
        self.mode = "ok"
        self.refuse = None
        self.hung = 0
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.attempts = []
        self.accepted = []
        self.raw_bodies = []
        self._conns = set()
        self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ctx.load_cert_chain(cert, key)
        self.port = 0
        self._server = None
        self.up()
        testcase.addCleanup(self.down)
        testcase.addCleanup(self.release.set)

    def url(self, path="/hooks/labelwatch"):
        return f"https://127.0.0.1:{self.port}{path}"

    def up(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

            def setup(self):
                super().setup()
                with receiver.lock:
                    receiver._conns.add(self.connection)

            def finish(self):
                with receiver.lock:
                    receiver._conns.discard(self.connection)
                super().finish()

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver._handle(self, body)

        class Server(http.server.ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server(("127.0.0.1", self.port), Handler)
        self._server.socket = self._ctx.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def down(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        with self.lock:
            for c in list(self._conns):
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _handle(self, h, body):
        sig = h.headers.get("X-Labelwatch-Signature", "")
        key_index = None
        for i, k in enumerate(self.keys):
            if hmac.compare_digest(sig, "sha256=" + hmac.new(k, body, hashlib.sha256).hexdigest()):
                key_index = i
        doc = json.loads(body)
        status = 204
        if self.mode == "hang":
            # Holds the request until released; then drops the connection unanswered
            # (the daemon gave up on it long before).
            with self.lock:
                self.hung += 1
            self.release.wait(60)
            with self.lock:
                self.attempts.append({"delivery": h.headers.get("X-Labelwatch-Delivery"),
                                      "event": h.headers.get("X-Labelwatch-Event"),
                                      "content_type": h.headers.get("Content-Type"),
                                      "status": 0, "key": key_index, "doc": doc})
            h.close_connection = True
            return
        if key_index is None:
            status = 401
        elif self.refuse and self.refuse(doc):
            status = self.refuse(doc)
        elif self.mode == "unavailable":
            status = 503
        with self.lock:
            self.attempts.append({"delivery": h.headers.get("X-Labelwatch-Delivery"),
                                  "event": h.headers.get("X-Labelwatch-Event"),
                                  "content_type": h.headers.get("Content-Type"),
                                  "status": status, "key": key_index, "doc": doc})
            self.raw_bodies.append(body)
            if status < 300:
                self.accepted.append(doc)
        h.send_response(status)
        if status == 503:
            h.send_header("Retry-After", "1")
        h.send_header("Content-Length", "0")
        h.end_headers()

    def snapshot(self):
        with self.lock:
            return list(self.accepted), list(self.attempts)


def dropped(d):
    v = d.metric("labelwatch_events_dropped_total", sink="webhook")
    return 0 if v is None else int(v)


class Webhook(unittest.TestCase):
    def setUp(self):
        path = os.path.join(tempfile.mkdtemp(prefix="lw-scn-"), "scenario.json")
        self.addCleanup(harness._rmtree, os.path.dirname(path))  # noqa: SLF001
        with open(path, "w") as f:
            json.dump(SCENARIO, f)
        self.sim = harness.Sim.start(self, scenario=path)
        tls = os.path.join(self.sim.workdir, "tls")
        self.cert, self.key = os.path.join(tls, "server.pem"), os.path.join(tls, "server.key")
        self.secret = "whsec-" + secrets.token_urlsafe(24)
        self.url_token = "tok" + secrets.token_hex(8)
        self.secret_file = daemon_util.write_secret(self, "webhook-secret", self.secret)
        self.created = 0

    def start(self, receiver, queue_size=None, **kw):
        events = {"webhook_url": receiver.url(f"/hooks/{self.url_token}?source=labelwatch"),
                  "webhook_secret_file": self.secret_file,
                  "webhook_ca_file": self.sim.ca_file}
        if queue_size:
            events["webhook_queue_size"] = queue_size
        return daemon_util.start(self, self.sim, WATCH, events=events, **kw)

    def more_events(self, d, n):
        """Creates `n` tasks in the simulator and waits until the daemon logged at least
        `n` more events (their discovery); returns the daemon's event count."""
        before = len(d.events())
        for _ in range(n):
            self.created += 1
            self.sim.create_task(DS, "auto", {
                "task_id": f"autoHookMore{self.created:06d}", "task_name": f"more-{self.created}",
                "timeline": [{"at": "0s", "status": 1, "progress": 10.0}]})
        return harness.poll_until(lambda: len(d.events()) >= before + n and len(d.events()), 30,
                                  what=f"{n} more events")

    def wait_all_delivered(self, d, receiver, timeout=45):
        def done():
            accepted, _ = receiver.snapshot()
            logged = d.events()
            return len(accepted) == len(logged) and (accepted, logged)
        return harness.poll_until(done, timeout, what="every logged event at the receiver")

    def assert_clean_attempts(self, receiver):
        _, attempts = receiver.snapshot()
        self.assertTrue(attempts)
        for a in attempts:
            self.assertIsNotNone(a["key"], f"bad signature on {a['event']}")
            self.assertEqual(a["content_type"], "application/json")
            self.assertEqual(a["event"], a["doc"]["event"])

    def test_signed_in_order_and_nothing_lost_through_outages(self):
        r = Receiver(self, [self.secret], self.cert, self.key)
        d = self.start(r)
        d.wait_event("task_status_changed", 30, task_id=AUTO, to="succeeded")
        # The drop counter exists from the start (an alert takes increase() of it).
        self.assertEqual(d.metric("labelwatch_events_dropped_total", sink="webhook"), 0)
        accepted, logged = self.wait_all_delivered(d, r)
        # The receiver saw exactly the daemon's event log, in order.
        self.assertEqual(accepted, logged)
        names = [e["event"] for e in accepted]
        self.assertEqual(names[0], "daemon_started")
        self.assertIn("task_discovered", names)
        self.assertIn("task_progress", names)
        self.assert_clean_attempts(r)

        # The receiver answers 503 for a while: events wait and go out later, in order.
        r.mode = "unavailable"
        self.more_events(d, 3)
        harness.poll_until(lambda: sum(a["status"] == 503 for a in r.snapshot()[1]) >= 2, 20,
                           what="two refused attempts")
        r.mode = "ok"
        accepted, logged = self.wait_all_delivered(d, r)
        self.assertEqual(accepted, logged)

        # The receiver is gone (connection refused) and comes back on the same port.
        r.down()
        self.more_events(d, 2)
        r.up()
        accepted, logged = self.wait_all_delivered(d, r)
        self.assertEqual(accepted, logged)

        # Every event was accepted exactly once; retries reuse the delivery id.
        _, attempts = r.snapshot()
        ok = [a["delivery"] for a in attempts if a["status"] < 300]
        self.assertEqual(len(ok), len(set(ok)))
        self.assertEqual(len(ok), len(logged))
        refused = {a["delivery"] for a in attempts if a["status"] == 503}
        self.assertTrue(refused <= set(ok), "a refused event was later delivered")
        self.assertEqual(dropped(d), 0)
        self.assert_clean_attempts(r)
        self.assertEqual(d.stop(), 0)

        # The secret and the URL's token are nowhere: logs, events, endpoints, bodies.
        self.assert_secret_nowhere(d, r)

    def assert_secret_nowhere(self, d, r):
        outputs = {"stdout": d.process.stdout(), "stderr": d.process.stderr()}
        with open(d.events_path) as f:
            outputs["events"] = f.read()
        for body in r.raw_bodies:
            outputs.setdefault("bodies", "")
            outputs["bodies"] += body.decode()
        check = subprocess.run([harness.bin_path("labelwatchd"), "--check-config", d.config_path],
                               capture_output=True, text=True, env=dict(os.environ, **d.env),
                               timeout=30)
        self.assertEqual(check.returncode, 0, check.stderr)
        outputs["check-config"] = check.stdout + check.stderr
        if d.process.alive():
            for path in ("/metrics", "/api/v1/events?limit=1000", "/api/v1/tasks", "/"):
                outputs[path] = d.get(path).body.decode()
        self.assertIn("webhook", outputs["stderr"])  # it does talk about the webhook
        for name, text in outputs.items():
            self.assertNotIn(self.secret, text, name)
            self.assertNotIn(self.url_token, text, name)

    def test_secret_never_appears_while_running(self):
        r = Receiver(self, [self.secret], self.cert, self.key)
        r.mode = "unavailable"  # failures get logged too
        d = self.start(r)
        d.wait_event("task_discovered", 30, task_id=AUTO)
        harness.poll_until(lambda: len(r.snapshot()[1]) >= 2, 20, what="two attempts")
        self.assert_secret_nowhere(d, r)

    def test_full_queue_drops_the_oldest_and_counts_them(self):
        r = Receiver(self, [self.secret], self.cert, self.key)
        r.mode = "unavailable"
        d = self.start(r, queue_size=3)
        d.wait_event("task_status_changed", 30, task_id=AUTO, to="succeeded")
        self.more_events(d, 4)
        logged = d.events()
        self.assertGreater(len(logged), 8)
        r.mode = "ok"

        # Once the queue is empty, every logged event was either delivered or dropped.
        def settled():
            accepted, _ = r.snapshot()
            n = dropped(d)
            return len(accepted) + n == len(d.events()) and (accepted, n)
        accepted, n = harness.poll_until(settled, 30, what="delivered + dropped == logged")
        logged = d.events()
        self.assertGreater(n, 0)
        # At most the bound plus the one on the wire survived: the newest, in order.
        self.assertLessEqual(len(accepted), 4)
        self.assertGreaterEqual(len(accepted), 3)
        self.assertEqual(accepted[-3:], logged[-3:])
        positions = [logged.index(e) for e in accepted]
        self.assertEqual(positions, sorted(positions))
        self.assert_clean_attempts(r)

    def test_refused_events_are_dropped_not_retried(self):
        r = Receiver(self, [self.secret], self.cert, self.key)
        r.refuse = lambda doc: 422 if doc["event"] == "task_progress" else None
        d = self.start(r)
        d.wait_event("task_status_changed", 30, task_id=AUTO, to="succeeded")

        def settled():
            accepted, attempts = r.snapshot()
            refused = [a for a in attempts if a["status"] == 422]
            return (len(accepted) + len(refused) == len(d.events()) and dropped(d) == len(refused)
                    and (accepted, attempts, refused))
        accepted, attempts, refused = harness.poll_until(settled, 30, what="all events answered")
        self.assertTrue(refused)
        # Each refused event was sent once, and everything else still arrived in order.
        self.assertEqual(len({a["delivery"] for a in refused}), len(refused))
        self.assertEqual(accepted, [e for e in d.events() if e["event"] != "task_progress"])

    def test_reload_changes_the_key_and_a_bad_secret_file_is_rejected(self):
        new_secret = "whsec-" + secrets.token_urlsafe(24)
        r = Receiver(self, [self.secret, new_secret], self.cert, self.key)
        d = self.start(r)
        d.wait_event("task_discovered", 30, task_id=AUTO)
        self.wait_all_delivered(d, r)
        with open(self.secret_file, "w") as f:
            f.write(new_secret + "\n")
        os.kill(d.process.pid, signal.SIGHUP)
        d.wait_event("config_reloaded", 20)
        self.more_events(d, 1)
        accepted, _ = self.wait_all_delivered(d, r)
        _, attempts = r.snapshot()
        reloaded = next(i for i, a in enumerate(attempts) if a["event"] == "config_reloaded")
        self.assertTrue(all(a["key"] == 1 for a in attempts[reloaded:]), "new key after reload")
        self.assertEqual(attempts[0]["key"], 0)

        # A reload with an unusable (empty) secret file is rejected as a whole; delivery
        # goes on with the key in use.
        with open(self.secret_file, "w"):
            pass
        os.kill(d.process.pid, signal.SIGHUP)
        rejected = d.wait_event("config_rejected", 20)
        self.assertIn(f"[events] webhook secret file {self.secret_file} is empty",
                      rejected["errors"])
        self.more_events(d, 1)
        self.wait_all_delivered(d, r)
        self.assertTrue(all(a["key"] == 1 for a in r.snapshot()[1][reloaded:]))

    def test_a_hanging_receiver_never_slows_polling(self):
        r = Receiver(self, [self.secret], self.cert, self.key)
        r.mode = "hang"
        d = self.start(r)
        d.wait_event("task_discovered", 30, task_id=AUTO)
        harness.poll_until(lambda: r.hung >= 1, 20, what="a request stuck at the receiver")
        # While the webhook request hangs, new tasks are discovered and logged on time
        # (discover_interval 1s) and scrapes answer at once.
        for _ in range(3):
            start = time.monotonic()
            self.more_events(d, 1)
            self.assertLess(time.monotonic() - start, 8)
            start = time.monotonic()
            self.assertIn("modelarts_auto_task_status", d.metrics())
            self.assertLess(time.monotonic() - start, 1)
        d.wait_event("task_status_changed", 20, task_id=AUTO, to="succeeded")
        # The receiver answers again: everything arrives, in order, once.
        r.mode = "ok"
        r.release.set()
        accepted, logged = self.wait_all_delivered(d, r, timeout=90)
        self.assertEqual(accepted, logged)
        self.assertEqual(dropped(d), 0)

    def test_an_unusable_secret_stops_the_start_with_a_clear_message(self):
        empty = daemon_util.write_secret(self, "webhook-secret", "")  # just a newline
        d = daemon_util.prepare(self, self.sim, WATCH, events={
            "webhook_url": f"https://127.0.0.1:9/hooks/{self.url_token}",
            "webhook_secret_file": empty})
        run = subprocess.run([harness.bin_path("labelwatchd"), "--config", d.config_path],
                             capture_output=True, text=True, env=dict(os.environ, **d.env),
                             timeout=60)
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn(f"[events] webhook secret file {empty} is empty", run.stderr)
        self.assertNotIn(self.url_token, run.stderr + run.stdout)

    def test_sigterm_flushes_the_queue_within_its_bound(self):
        r = Receiver(self, [self.secret], self.cert, self.key)
        r.mode = "unavailable"
        d = self.start(r)
        d.wait_event("task_discovered", 30, task_id=AUTO)
        harness.poll_until(lambda: len(r.snapshot()[1]) >= 1, 20, what="a refused attempt")
        r.mode = "ok"
        start = time.monotonic()
        self.assertEqual(d.stop(), 0)
        self.assertLess(time.monotonic() - start, 12)
        accepted, _ = r.snapshot()
        self.assertEqual(accepted, d.events())
        self.assertIn("every webhook event was delivered", d.process.stderr())

    def test_sigterm_with_the_receiver_down_is_bounded(self):
        r = Receiver(self, [self.secret], self.cert, self.key)
        r.mode = "unavailable"
        d = self.start(r)
        d.wait_event("task_discovered", 30, task_id=AUTO)
        start = time.monotonic()
        self.assertEqual(d.stop(), 0)
        # Drain (nothing in flight) plus the 5 s webhook bound, with room for a slow CI.
        self.assertLess(time.monotonic() - start, 12)
        self.assertEqual(r.snapshot()[0], [])
        self.assertRegex(d.process.stderr(), r"stopping with \d+ events? not delivered")


if __name__ == "__main__":
    unittest.main()
