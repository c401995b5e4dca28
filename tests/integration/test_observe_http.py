#!/usr/bin/env python3
"""The observe endpoints over real HTTP (observe_fixture_server: the real endpoints on
the real Beast server): /metrics plain and gzip, HEAD, 404/405, basic auth, the JSON
APIs, a slow client next to a scrape, and events as JSON lines on stdout."""

import base64
import gzip
import http.client
import json
import socket
import time
import unittest

import harness
import observe_fixture


def request(fx, method, path, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", fx.port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        conn.close()


class observe_http(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._holder = unittest.TestCase()  # cleanups of class-level processes
        cls.fx = observe_fixture.Fixture(cls._holder, tick_ms=100)

    @classmethod
    def tearDownClass(cls):
        cls._holder.doCleanups()

    def test_metrics_plain(self):
        status, headers, body = request(self.fx, "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        self.assertNotIn("content-encoding", headers)
        text = body.decode()
        self.assertIn("# TYPE modelarts_auto_task_status gauge\n", text)
        self.assertIn('labelwatch_build_info{version="', text)
        self.assertIn('modelarts_workforce_worker_samples{', text)

    def test_metrics_gzip_round_trip(self):
        status, headers, body = request(self.fx, "GET", "/metrics",
                                        {"Accept-Encoding": "gzip, deflate"})
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-encoding"], "gzip")
        self.assertEqual(headers["vary"], "Accept-Encoding")
        self.assertEqual(int(headers["content-length"]), len(body))
        text = gzip.decompress(body).decode()
        _, _, plain = request(self.fx, "GET", "/metrics")
        # Values move between the two scrapes; the series set does not.
        def series(t):
            return sorted(l.rsplit(" ", 1)[0] for l in t.splitlines() if l and not l.startswith("#")
                          and "duration_seconds" not in l and "requests_total" not in l
                          and "progress" not in l and "_status" not in l)
        self.assertEqual(series(text), series(plain.decode()))
        self.assertLess(len(body), len(plain))

    def test_head_has_no_body(self):
        status, headers, body = request(self.fx, "HEAD", "/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")
        self.assertEqual(headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")

    def test_unknown_path_and_wrong_method(self):
        status, _, _ = request(self.fx, "GET", "/does-not-exist")
        self.assertEqual(status, 404)
        for method in ("POST", "PUT", "DELETE"):
            status, headers, _ = request(self.fx, method, "/metrics")
            self.assertEqual(status, 405, method)
            self.assertEqual(headers["allow"], "GET, HEAD")

    def test_health_and_readiness(self):
        status, _, body = request(self.fx, "GET", "/healthz")
        self.assertEqual((status, body), (200, b"ok\n"))
        status, _, body = request(self.fx, "GET", "/readyz")
        self.assertEqual((status, body), (200, b"ready\n"))

    def test_tasks_api(self):
        status, headers, body = request(self.fx, "GET", "/api/v1/tasks")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        tasks = {t["task_id"]: t for t in json.loads(body)["tasks"]}
        self.assertEqual(len(tasks), 4)
        bad = tasks["failedTask0001"]
        self.assertEqual(bad["task_name"], "<script>alert(1)</script>")
        self.assertEqual(bad["status"], "failed")
        self.assertEqual(bad["api_error"]["code"], "ModelArts.4352")
        self.assertTrue(tasks["stalledTeam01"]["stalled"])
        self.assertEqual(tasks["iYZx7gScPUozOXner9k"]["acceptance"]["checked"], 50)

    def test_events_api_and_limit(self):
        status, _, body = request(self.fx, "GET", "/api/v1/events?limit=3")
        self.assertEqual(status, 200)
        events = json.loads(body)["events"]
        self.assertEqual(len(events), 3)
        stamps = [e["ts"] for e in events]
        self.assertEqual(stamps, sorted(stamps, reverse=True), "newest first")
        status, _, body = request(self.fx, "GET", "/api/v1/events?limit=zero")
        self.assertEqual(status, 400)
        self.assertIn("limit must be an integer from 1 to 1000", json.loads(body)["error"])

    def test_status_page_headers(self):
        status, headers, body = request(self.fx, "GET", "/")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
        self.assertTrue(headers["content-security-policy"].startswith("default-src 'none'"))
        self.assertEqual(headers["x-content-type-options"], "nosniff")
        self.assertIn(b"&lt;script&gt;alert(1)&lt;/script&gt;", body)
        self.assertNotIn(b"<script", body)

    def test_slow_client_does_not_block_a_scrape(self):
        # A client that sends half a request and then nothing.
        slow = socket.create_connection(("127.0.0.1", self.fx.port), timeout=5)
        self.addCleanup(slow.close)
        slow.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        start = time.monotonic()
        status, _, body = request(self.fx, "GET", "/metrics", timeout=5)
        self.assertEqual(status, 200)
        self.assertIn(b"modelarts_auto_task_status", body)
        self.assertLess(time.monotonic() - start, 2.0)

    def test_events_are_json_lines_on_stdout(self):
        def lines():
            text = self.fx.process.stdout()
            return [l for l in text.split("\n")[:-1]]  # only complete lines
        got = harness.poll_until(lambda: len(lines()) >= 10 and lines(), 10, what="10 event lines")
        for line in got:
            doc = json.loads(line)
            self.assertIn(doc["level"], ("debug", "info", "warning", "error"))
            self.assertRegex(doc["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        names = {json.loads(l)["event"] for l in got}
        self.assertTrue({"task_discovered", "task_stalled"} <= names, names)


class observe_http_auth(unittest.TestCase):
    def test_basic_auth(self):
        fx = observe_fixture.Fixture(self, auth=("prom", "pa:ss w0rd"))
        status, headers, body = request(fx, "GET", "/metrics")
        self.assertEqual(status, 401)
        self.assertIn('Basic realm="labelwatch"', headers["www-authenticate"])
        self.assertNotIn(b"pa:ss", body)

        def auth(user, password):
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            return {"Authorization": f"Basic {token}"}

        self.assertEqual(request(fx, "GET", "/metrics", auth("prom", "wrong"))[0], 401)
        self.assertEqual(request(fx, "GET", "/metrics", auth("other", "pa:ss w0rd"))[0], 401)
        self.assertEqual(request(fx, "GET", "/", auth("prom", "pa:ss w0rd"))[0], 200)
        status, _, body = request(fx, "GET", "/metrics", auth("prom", "pa:ss w0rd"))
        self.assertEqual(status, 200)
        self.assertIn(b"modelarts_auto_task_status", body)


if __name__ == "__main__":
    unittest.main()
