#!/usr/bin/env python3
"""The client through an HTTP CONNECT proxy: a small proxy written here (stdlib sockets
and threads) records every CONNECT and relays bytes. It proves the tunnel was used (and
reused across keep-alive requests), that `[cloud] proxy`/--proxy and HTTPS_PROXY both
work, that NO_PROXY bypasses it, that proxy credentials are sent but never shown, and
that a refusing proxy gives a clear error."""

import base64
import json
import os
import shutil
import socket
import tempfile
import threading
import unittest

import cli_util
import harness

DS = "WxCREuCkBSAlQr9xrde"
AUTO = "XGrRZuCV1qmMxnsmD5u"


class ConnectProxy:
    """A minimal HTTP CONNECT proxy on 127.0.0.1 (OS-chosen port)."""

    def __init__(self, testcase, refuse_with=None):
        self.refuse_with = refuse_with  # e.g. "407 Proxy Authentication Required"
        self.connects = []      # CONNECT targets, in order
        self.headers = []       # the header block of each CONNECT, lower-case names
        self.lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.stopped = False
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()
        testcase.addCleanup(self.stop)

    def stop(self):
        self.stopped = True
        try:
            self.listener.close()
        except OSError:
            pass

    def _accept_loop(self):
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        upstream = None
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = client.recv(4096)
                if not chunk:
                    return
                data += chunk
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            lines = head.split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            fields = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                fields[name.strip().lower()] = value.strip()
            with self.lock:
                self.connects.append(target)
                self.headers.append(fields)
            if method != "CONNECT":
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            if self.refuse_with:
                client.sendall(f"HTTP/1.1 {self.refuse_with}\r\nContent-Length: 0\r\n\r\n".encode())
                return
            host, _, port = target.rpartition(":")
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._relay(client, upstream)
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass

    @staticmethod
    def _relay(a, b):
        def pump(src, dst):
            try:
                while True:
                    chunk = src.recv(65536)
                    if not chunk:
                        break
                    dst.sendall(chunk)
            except OSError:
                pass
            finally:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        t = threading.Thread(target=pump, args=(b, a), daemon=True)
        t.start()
        pump(a, b)
        t.join(30)


class Proxy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="lw-client-proxy-")
        path = os.path.join(cls.dir, "scenario.json")
        with open(path, "w") as f:
            json.dump(cli_util.paging_scenario(autos=12, dataset=DS), f)
        cls.sim = harness.Sim.start(None, scenario=path)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.since = self.sim.last_seq()
        self.target = f"127.0.0.1:{self.sim.port}"

    def test_proxy_from_the_command_line_carries_every_request(self):
        proxy = ConnectProxy(self)
        r = cli_util.run(self.sim, "--proxy", proxy.url, "list", "auto-tasks", "--dataset", DS,
                         "--page-size", "3")
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(len(r.json()), 12)
        requests = self.sim.journal(since=self.since)
        self.assertGreaterEqual(len(requests), 4)
        # One tunnel, reused by keep-alive for every page.
        self.assertEqual(proxy.connects, [self.target])

    def test_https_proxy_from_the_environment(self):
        proxy = ConnectProxy(self)
        r = cli_util.run(self.sim, "list", "datasets", env={"HTTPS_PROXY": proxy.url})
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(proxy.connects, [self.target])

    def test_no_proxy_bypasses_the_proxy(self):
        proxy = ConnectProxy(self)
        for no_proxy in ("127.0.0.1", "127.0.0.0/8", f"localhost, 127.0.0.1:{self.sim.port}", "*"):
            r = cli_util.run(self.sim, "list", "datasets",
                             env={"https_proxy": proxy.url, "NO_PROXY": no_proxy})
            self.assertEqual(r.returncode, 0, (no_proxy, r))
        self.assertEqual(proxy.connects, [])
        # A NO_PROXY entry for another port does not exempt this one.
        r = cli_util.run(self.sim, "list", "datasets",
                         env={"https_proxy": proxy.url, "NO_PROXY": "127.0.0.1:1"})
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(proxy.connects, [self.target])

    def test_proxy_credentials_are_sent_and_never_shown(self):
        proxy = ConnectProxy(self)
        r = cli_util.run(self.sim, "--proxy", f"http://alice:pr0xy-s3cret@127.0.0.1:{proxy.port}",
                         "list", "datasets")
        self.assertEqual(r.returncode, 0, r)
        expected = "Basic " + base64.b64encode(b"alice:pr0xy-s3cret").decode()
        self.assertEqual(proxy.headers[0].get("proxy-authorization"), expected)
        self.assertNotIn("pr0xy-s3cret", r.stdout + r.stderr)

    def test_a_refusing_proxy_is_a_clear_error(self):
        proxy = ConnectProxy(self, refuse_with="407 Proxy Authentication Required")
        r = cli_util.run(self.sim, "--proxy", f"http://alice:pr0xy-s3cret@127.0.0.1:{proxy.port}",
                         "list", "datasets")
        # A 4xx from the proxy is a setting to fix (exit 2), not worth a retry.
        self.assertEqual(r.returncode, 2, r)
        self.assertIn(f"proxy http://127.0.0.1:{proxy.port} refused CONNECT to {self.target}: "
                      "407 Proxy Authentication Required", r.stderr)
        self.assertNotIn("pr0xy-s3cret", r.stderr)
        self.assertEqual(self.sim.journal(since=self.since), [])
        self.assertEqual(len(proxy.connects), 1)

    def test_a_proxy_that_cannot_reach_the_target_is_retried(self):
        proxy = ConnectProxy(self, refuse_with="502 Bad Gateway")
        r = cli_util.run(self.sim, "--proxy", proxy.url, "list", "datasets")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("502 Bad Gateway", r.stderr)
        # Before the request left: retried within the budget (4 attempts).
        self.assertEqual(len(proxy.connects), 4)

    def test_an_unusable_proxy_setting_is_a_configuration_error(self):
        r = cli_util.run(self.sim, "list", "datasets", env={"HTTPS_PROXY": "socks5://127.0.0.1:1"})
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("https_proxy", r.stderr)
        self.assertIn("not supported", r.stderr)


if __name__ == "__main__":
    unittest.main()
