#!/usr/bin/env python3
"""labelwatchd's HTTP endpoints (issue 5, "Other endpoints" and "Tests"), on the real
daemon watching labelwatch-sim: 404/405, HEAD (the GET's Content-Length, no body), gzip
round trip, a slow client that trickles bytes next to a scrape, basic auth accept and
reject, and TLS with a certificate made by the openssl command line tool."""

import base64
import gzip
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import daemon_util
import harness
from daemon_util import OBS_AUTO, OBS_DS, OBS_WATCH, OBS_XSS


def conn(d, timeout=10):
    host, port = d.base_url.split("://")[1].rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=timeout)


def hostport(d):
    host, port = d.base_url.split("://")[1].rsplit(":", 1)
    return host, int(port)


class DaemonHttp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._holder = unittest.TestCase()  # cleanups of the class-level processes
        cls.sim = daemon_util.start_observe_sim(cls._holder)
        cls.d = daemon_util.start(cls._holder, cls.sim, OBS_WATCH)
        harness.poll_until(lambda: cls.d.task(OBS_XSS), 30, what="tasks polled")
        # The first poll round over: every task's families exist from here on.
        harness.poll_until(lambda: cls.d.get("/readyz").status == 200, 30,
                           what="/readyz 200")

    @classmethod
    def tearDownClass(cls):
        cls._holder.doCleanups()

    def test_unknown_path_404_and_other_methods_405(self):
        for path in ("/nope", "/metrics/x", "/api/v1/task", "/api/v2/tasks"):
            r = daemon_util.request(self.d, "GET", path)
            self.assertEqual(r.status, 404, path)
        for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            for path in ("/metrics", "/", "/api/v1/tasks"):
                r = daemon_util.request(self.d, method, path)
                self.assertEqual(r.status, 405, f"{method} {path}")
                self.assertEqual(r.headers["allow"], "GET, HEAD")

    def test_head_announces_the_get_length_without_a_body(self):
        c = conn(self.d)
        self.addCleanup(c.close)
        for path, stable in (("/healthz", True), ("/metrics", False), ("/", False)):
            c.request("GET", path)
            g = c.getresponse()
            get_body = g.read()
            c.request("HEAD", path)
            h = c.getresponse()
            self.assertEqual(h.read(), b"", path)
            self.assertEqual(h.status, 200, path)
            self.assertEqual(h.getheader("Content-Type"), g.getheader("Content-Type"), path)
            length = int(h.getheader("Content-Length"))
            self.assertEqual(int(g.getheader("Content-Length")), len(get_body), path)
            if stable:
                self.assertEqual(length, len(get_body), path)
            else:
                # Counters and timings move between the two requests; the size barely does.
                self.assertGreater(length, 0.9 * len(get_body), path)
                self.assertLess(length, 1.1 * len(get_body), path)
        # The connection is still in step: no stray body bytes followed a HEAD answer.
        c.request("GET", "/healthz")
        r = c.getresponse()
        self.assertEqual((r.status, r.read()), (200, b"ok\n"))

    def test_head_on_a_raw_socket_sends_no_body(self):
        s = socket.create_connection(hostport(self.d), timeout=5)
        self.addCleanup(s.close)
        s.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        deadline = time.monotonic() + 5
        while data.count(b"HTTP/1.1 200") < 2 or not data.endswith(b"ok\n"):
            chunk = s.recv(65536)
            if not chunk or time.monotonic() > deadline:
                break
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        self.assertIn(b"Content-Length: 3\r\n", head + b"\r\n")
        self.assertTrue(rest.startswith(b"HTTP/1.1 200 OK\r\n"), rest[:80])
        self.assertTrue(rest.endswith(b"\r\n\r\nok\n"), rest[-80:])

    def test_gzip_round_trip(self):
        plain = daemon_util.request(self.d, "GET", "/metrics")
        zipped = daemon_util.request(self.d, "GET", "/metrics", {"Accept-Encoding": "gzip"})
        self.assertEqual(zipped.status, 200)
        self.assertEqual(zipped.headers["content-encoding"], "gzip")
        self.assertIn("Accept-Encoding", zipped.headers["vary"])
        self.assertEqual(int(zipped.headers["content-length"]), len(zipped.body))
        text = gzip.decompress(zipped.body).decode()
        self.assertLess(len(zipped.body), len(plain.body) / 3)
        self.assertNotIn("content-encoding", plain.headers)

        def families(t):
            return sorted(l for l in t.splitlines() if l.startswith("# TYPE "))
        self.assertEqual(families(text), families(plain.body.decode()))
        self.assertIn(f'modelarts_auto_task_info{{algorithm_type=', text)
        self.assertIn(f'task_id="{OBS_AUTO}"', text)
        # gzip;q=0 means "not gzip".
        refused = daemon_util.request(self.d, "GET", "/metrics", {"Accept-Encoding": "gzip;q=0"})
        self.assertNotIn("content-encoding", refused.headers)

    def test_slow_clients_do_not_block_a_scrape(self):
        # Three clients trickle a request one byte every 200 ms, one opens and says nothing.
        stop = threading.Event()
        socks = []
        sent = [0, 0, 0]

        def trickle(i, s):
            try:
                for b in b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000:
                    s.send(bytes([b]))
                    sent[i] += 1
                    if stop.wait(0.2):
                        return
            except OSError:
                return

        for i in range(3):
            s = socket.create_connection(hostport(self.d), timeout=5)
            socks.append(s)
            threading.Thread(target=trickle, args=(i, s), daemon=True).start()
        socks.append(socket.create_connection(hostport(self.d), timeout=5))
        self.addCleanup(lambda: [s.close() for s in socks])
        self.addCleanup(stop.set)
        harness.poll_until(lambda: min(sent) >= 3, 10, what="slow requests under way")
        for _ in range(5):
            start = time.monotonic()
            r = daemon_util.request(self.d, "GET", "/metrics", timeout=5)
            self.assertEqual(r.status, 200)
            self.assertIn(b"modelarts_auto_task_status", r.body)
            self.assertLess(time.monotonic() - start, 1.0)
        self.assertEqual(daemon_util.request(self.d, "GET", "/healthz").status, 200)

    def test_tasks_api_keeps_markup_as_data(self):
        r = daemon_util.request(self.d, "GET", "/api/v1/tasks")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["content-type"], "application/json")
        tasks = {t["task_id"]: t for t in json.loads(r.body)["tasks"]}
        self.assertEqual(tasks[OBS_XSS]["task_name"], daemon_util.XSS_NAME)
        self.assertEqual(tasks[OBS_XSS]["dataset_id"], OBS_DS)


class DaemonHttpAuth(unittest.TestCase):
    def test_basic_auth_accepts_the_right_password_only(self):
        sim = daemon_util.start_observe_sim(self)
        password = "pa:ss w0rd-" + os.urandom(6).hex()
        pw_file = daemon_util.write_secret(self, "scrape-password", password)
        d = daemon_util.start(self, sim, OBS_WATCH, server={
            "basic_auth_user": "prometheus", "basic_auth_password_file": pw_file})
        for path in ("/metrics", "/", "/api/v1/tasks", "/api/v1/events", "/healthz", "/nope"):
            r = daemon_util.request(d, "GET", path)
            self.assertEqual(r.status, 401, path)
            self.assertIn('Basic realm="labelwatch"', r.headers["www-authenticate"])
            self.assertNotIn(password.encode(), r.body)
        for user, pw in (("prometheus", "wrong"), ("other", password), ("prometheus", password + "x"),
                         ("prometheus", password[:-1]), ("", "")):
            self.assertEqual(daemon_util.request(d, "GET", "/metrics", auth=(user, pw)).status, 401,
                             (user, pw))
        r = daemon_util.request(d, "GET", "/metrics", auth=("prometheus", password))
        self.assertEqual(r.status, 200)
        self.assertIn(b"labelwatch_build_info", r.body)
        harness.poll_until(lambda: b"modelarts_auto_task_status" in daemon_util.request(
            d, "GET", "/metrics", auth=("prometheus", password)).body, 30, what="task series")
        self.assertEqual(daemon_util.request(d, "GET", "/nope", auth=("prometheus", password)).status, 404)
        # A malformed header is a plain rejection, not an error.
        for bad in ("Basic", "Basic !!!", "Bearer x", "Basic " + base64.b64encode(b"nocolon").decode()):
            self.assertEqual(daemon_util.request(d, "GET", "/metrics",
                                                 {"Authorization": bad}).status, 401, bad)
        # The password is in no log line.
        self.assertEqual(d.stop(), 0)
        self.assertNotIn(password, d.process.stderr() + d.process.stdout())


def openssl_cert(testcase, names=("IP:127.0.0.1", "DNS:localhost")):
    """A self-signed certificate and key made by the openssl tool; returns their paths."""
    tool = shutil.which("openssl")
    if not tool:
        raise FileNotFoundError("openssl not found: install the Debian package `openssl`")
    d = tempfile.mkdtemp(prefix="lw-cert-")
    testcase.addCleanup(shutil.rmtree, d, True)
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run([tool, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=labelwatch test",
                    "-addext", "subjectAltName=" + ",".join(names)],
                   check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o600)
    return cert, key


class DaemonTls(unittest.TestCase):
    def test_https_with_an_openssl_certificate(self):
        sim = daemon_util.start_observe_sim(self)
        cert, key = openssl_cert(self)
        d = daemon_util.start(self, sim, OBS_WATCH, server={"tls_cert_file": cert, "tls_key_file": key})
        self.assertTrue(d.base_url.startswith("https://127.0.0.1:"), d.base_url)
        r = harness.poll_until(
            lambda: (lambda x: x.status == 200 and x)(
                daemon_util.request(d, "GET", "/readyz", ca_file=cert)), 30, what="ready over TLS")
        harness.poll_until(lambda: b"modelarts_auto_task_status" in daemon_util.request(
            d, "GET", "/metrics", ca_file=cert).body, 30, what="task series over TLS")
        r = daemon_util.request(d, "GET", "/metrics", {"Accept-Encoding": "gzip"}, ca_file=cert)
        self.assertEqual(gzip.decompress(r.body).count(b"# TYPE"),
                         daemon_util.request(d, "GET", "/metrics", ca_file=cert).body.count(b"# TYPE"))

        # A client that does not trust the certificate fails verification.
        with self.assertRaises(ssl.SSLCertVerificationError):
            daemon_util.request(d, "GET", "/metrics")
        # Plain HTTP on the TLS port gets no HTTP answer.
        s = socket.create_connection(hostport(d), timeout=5)
        self.addCleanup(s.close)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            data = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            data = b""
        self.assertNotIn(b"modelarts_", data)
        self.assertFalse(data.startswith(b"HTTP/1.1 200"))
        # The daemon still serves TLS clients after that.
        self.assertEqual(daemon_util.request(d, "GET", "/healthz", ca_file=cert).status, 200)
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
