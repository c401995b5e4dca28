#!/usr/bin/env python3
"""labelwatchd and the systemd notify protocol (issue 7), with this test playing systemd:
it owns NOTIFY_SOCKET (a Unix datagram socket), sets WATCHDOG_USEC and WATCHDOG_PID the
way systemd does, and reads what labelwatchd says. The daemon watches labelwatch-sim over
TLS with AK/SK signing, as in production.

- READY=1 comes only once config, state and the HTTP server are up: at the moment it
  arrives the HTTP port answers and the state database exists. It carries STATUS=.
- WATCHDOG=1 comes every half WATCHDOG_USEC, only to the pid named by WATCHDOG_PID, and
  stops while the event loop is wedged: with `[events] log = "journal"` and a journal
  that stops reading (a hung journald), sd_journal_sendv() blocks the loop thread; a
  pinger on another thread or a plain timer would keep pinging. The rule
  for a loop that turns but makes no progress is unit-tested (unit.app.watchdog.*):
  every request and store commit is bounded, so that state cannot be provoked from
  outside without a bug to exploit.
- SIGHUP: RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC, the clock Python's
  time.monotonic() reads), then READY=1; a rejected file says so in STATUS=.
- SIGTERM: STOPPING=1, then exit 0 within the drain bound.
"""

import fcntl
import json
import os
import select
import signal
import socket
import termios
import threading
import time
import struct
import subprocess
import unittest

import harness
import sd_notify

DS = "WxCREuCkBSAlQr9xrde"
WATCH = [dict(dataset_id=DS, discover=False, auto_tasks=["XGrRZuCV1qmMxnsmD5u"],
              workforce_tasks=["iYZx7gScPUozOXner9k"])]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(port, path="/healthz", timeout=5.0):
    c = harness.Client(f"http://127.0.0.1:{port}", timeout=timeout)
    try:
        return c.request("GET", path, sign=False).status
    finally:
        c.close()


def monotonic_usec():
    return time.monotonic_ns() // 1000


def gaps(times):
    return [b - a for a, b in zip(times, times[1:])]


class Notify(unittest.TestCase):
    def setUp(self):
        self.sim = harness.Sim.start(self, scenario="builtin:seeds")
        self.ns = sd_notify.NotifySocket(self)

    def launch(self, listen="127.0.0.1:0", watchdog_usec=None, watchdog_pid="$$", work=None):
        """labelwatchd with this test's NOTIFY_SOCKET; returns the harness Daemon."""
        if work is None:
            work = harness.tempfile.mkdtemp(prefix="lw-notify-daemon-")
            self.addCleanup(harness._rmtree, work)  # noqa: SLF001
        d = harness.Daemon(self, work)
        with open(d.config_path, "w") as f:
            f.write(harness.daemon_config(self.sim, WATCH, events_log=d.events_path,
                                          state_path=d.state_path, listen=listen))
        d.env = {"HUAWEICLOUD_SDK_AK": self.sim.ak, "HUAWEICLOUD_SDK_SK": self.sim.sk}
        d.env.update(self.ns.env(watchdog_usec=watchdog_usec))
        if watchdog_usec is not None and watchdog_pid is not None:
            d.prefix = sd_notify.exec_prefix({"WATCHDOG_PID": watchdog_pid})
        return d.launch()

    def test_ready_status_watchdog_reload_and_stop(self):
        port = free_port()
        work = harness.tempfile.mkdtemp(prefix="lw-notify-daemon-")
        self.addCleanup(harness._rmtree, work)  # noqa: SLF001
        state = {}

        def at_ready(msg):
            # Runs the moment READY=1 arrives, before the daemon does anything else we
            # could wait for: everything READY promises must already hold.
            if "READY" in msg and "ready" not in state:
                state["ready"] = {
                    "http": http_status(port, "/metrics"),
                    "state_db": os.path.exists(os.path.join(work, "state.db")),
                }

        self.ns.hook = at_ready
        first = 0
        d = self.launch(listen=f"127.0.0.1:{port}", watchdog_usec=3_000_000, work=work)

        ready = self.ns.wait_for("READY", since=first, process=d.process)
        self.assertEqual(ready.get("READY"), "1")
        self.assertIsNone(ready.hook_error, f"probe at READY failed: {ready.hook_error!r}")
        self.assertEqual(state["ready"], {"http": 200, "state_db": True})
        # STATUS= rides with READY=1: a one-line summary for `systemctl status`.
        self.assertTrue(ready.get("STATUS", "").startswith(
            "watching 1 auto and 1 team labeling tasks; first poll round running"),
            ready.get("STATUS"))
        self.assertEqual(d.base_url, f"http://127.0.0.1:{port}")
        self.ns.hook = None

        # Watchdog: pings every WATCHDOG_USEC / 2 = 1.5 s once polling runs.
        pings = harness.poll_until(lambda: self.ns.times("WATCHDOG", since=first)
                                   if len(self.ns.times("WATCHDOG", since=first)) >= 5 else None,
                                   20, what="five WATCHDOG=1 pings")
        for m in self.ns.messages("WATCHDOG", since=first):
            self.assertEqual(m.raw, "WATCHDOG=1")
        g = gaps(pings)
        mean = sum(g) / len(g)
        self.assertGreater(mean, 1.3, f"pings closer than half the watchdog interval: {g}")
        self.assertLess(mean, 1.8, f"pings farther apart than half the interval: {g}")
        self.assertTrue(all(1.0 < x < 2.6 for x in g), g)
        # The periodic STATUS= refresh mentions the finished first round.
        harness.poll_until(lambda: any(m.get("STATUS", "").startswith(
            "watching 1 auto and 1 team labeling tasks") and "first poll round" not in
            m.get("STATUS") for m in self.ns.messages("STATUS", since=first)), 20,
            what="STATUS= after the first poll round")

        # SIGHUP with a valid file: RELOADING=1 + MONOTONIC_USEC, then READY=1.
        mark = self.ns.count()
        before = monotonic_usec()
        d.process.proc.send_signal(signal.SIGHUP)
        reloading = self.ns.wait_for("RELOADING", since=mark)
        self.assertEqual(reloading.get("RELOADING"), "1")
        usec = int(reloading.get("MONOTONIC_USEC"))
        self.assertGreaterEqual(usec, before)
        self.assertLessEqual(usec, int(reloading.at * 1_000_000) + 1000)
        after = self.ns.messages(since=mark)
        idx = [i for i, m in enumerate(after) if "RELOADING" in m][0]
        ready2 = self.ns.wait_for("READY", since=mark + idx + 1)
        self.assertEqual(ready2.get("READY"), "1")
        self.assertNotIn("reload rejected", ready2.get("STATUS", ""))
        d.wait_event("config_reloaded")

        # SIGHUP with a broken file: still RELOADING then READY (the old config runs),
        # and STATUS= says the reload was rejected.
        with open(d.config_path, "a") as f:
            f.write("\n[poll]\nactive_interval = \"soon\"\n")
        mark = self.ns.count()
        d.process.proc.send_signal(signal.SIGHUP)
        self.ns.wait_for("RELOADING", since=mark)
        ready3 = self.ns.wait_for("READY", since=mark)
        self.assertGreater(ready3.at, self.ns.wait_for("RELOADING", since=mark).at - 1e-9)
        self.assertRegex(ready3.get("STATUS"),
                         r"; reload rejected \(\d+ errors?\), previous config running")
        d.wait_event("config_rejected")

        # SIGTERM: STOPPING=1 first, exit 0 well within TimeoutStopSec.
        mark = self.ns.count()
        t = time.monotonic()
        d.process.proc.send_signal(signal.SIGTERM)
        stopping = self.ns.wait_for("STOPPING", since=mark, timeout=10)
        self.assertEqual(stopping.get("STOPPING"), "1")
        code = d.process.proc.wait(timeout=15)
        self.assertEqual(code, 0, d.process.log_tail())
        self.assertLess(time.monotonic() - t, 12)
        self.assertLessEqual(stopping.at, time.monotonic())

    def test_watchdog_pings_only_for_the_named_pid(self):
        # WATCHDOG_PID names another process (as when labelwatchd is a child of the
        # service's main process): the watchdog is not ours to feed.
        d = self.launch(watchdog_usec=1_000_000, watchdog_pid=str(os.getpid()))
        self.ns.wait_for("READY", process=d.process)
        # Without the mismatch this would be 2 pings a second; give it 3 seconds.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            self.assertEqual(self.ns.times("WATCHDOG"), [])
            time.sleep(0.1)
        self.assertEqual(d.stop(), 0)

    def test_without_notify_socket_nothing_is_sent_and_it_runs(self):
        # Outside systemd (no NOTIFY_SOCKET) the daemon behaves the same and says nothing.
        d = harness.Daemon.start(self, self.sim, WATCH, env={"WATCHDOG_USEC": "1000000"})
        d.wait_event("task_discovered", task_id="XGrRZuCV1qmMxnsmD5u")
        self.assertEqual(self.ns.messages(), [])
        self.assertEqual(d.stop(), 0)


class StalledJournal:
    """A journald stand-in: a Unix datagram socket that reads in a thread until told to
    stop, as a journald that hangs (the kernel then queues at most
    net.unix.max_dgram_qlen datagrams, and a sender blocks in sendmsg)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.path = path
        self.datagrams = []
        self.reading = threading.Event()
        self.reading.set()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            if not self.reading.wait(0.1):
                continue
            r, _, _ = select.select([self.sock], [], [], 0.1)
            if r and self.reading.is_set():
                self.datagrams.append(self.sock.recv(1 << 20))

    def pending(self):
        """Bytes of the next queued datagram (0: nothing waiting)."""
        return struct.unpack("i", fcntl.ioctl(self.sock, termios.FIONREAD, b"\0" * 4))[0]

    def events(self, name):
        """MESSAGE= of every received entry whose EVENT= is `name` (native protocol)."""
        out = []
        for d in self.datagrams:
            fields = dict(line.split("=", 1) for line in d.decode().split("\n") if "=" in line)
            if fields.get("EVENT") == name:
                out.append(json.loads(fields["MESSAGE"]))
        return out

    def close(self):
        self._stop = True
        self.reading.set()
        self._thread.join(timeout=2)
        self.sock.close()


# Runs the rest of argv in a private mount namespace where /run/systemd/journal/socket is
# the test's socket (nothing outside the namespace changes), with WATCHDOG_PID=$$.
NAMESPACE = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             'mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal && '
             ': > /run/systemd/journal/socket && '
             'mount --bind "$LW_JOURNAL" /run/systemd/journal/socket && '
             'export WATCHDOG_PID=$$ && exec "$@"', "sh"]


def can_use_mount_namespace():
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                        "mount -t tmpfs tmpfs /run"], capture_output=True, timeout=10)
    return r.returncode == 0


class WedgedLoop(unittest.TestCase):
    def test_a_blocked_event_loop_stops_the_watchdog_and_it_resumes(self):
        # The wedge is real: events go to the journal (`[events] log = "journal"`) and the
        # journal stops reading, so sd_journal_sendv() blocks the loop thread, as when
        # journald hangs in production.
        if not can_use_mount_namespace():
            self.skipTest("needs a private mount namespace (unshare --mount, as root)")
        sim = harness.Sim.start(self, scenario="builtin:seeds")
        ns = sd_notify.NotifySocket(self)
        work = harness.tempfile.mkdtemp(prefix="lw-wedge-")
        self.addCleanup(harness._rmtree, work)  # noqa: SLF001
        journal = StalledJournal(os.path.join(work, "journal.socket"))
        self.addCleanup(journal.close)
        config = os.path.join(work, "labelwatch.toml")
        with open(config, "w") as f:
            f.write(harness.daemon_config(sim, WATCH, events_log="journal",
                                          state_path=os.path.join(work, "state.db")))
        env = {"HUAWEICLOUD_SDK_AK": sim.ak, "HUAWEICLOUD_SDK_SK": sim.sk,
               "LW_JOURNAL": journal.path}
        env.update(ns.env(watchdog_usec=2_000_000))
        argv = NAMESPACE + [harness.bin_path("labelwatchd"), "--config", config]
        proc = harness.Process(argv, work, "labelwatchd-wedge", env=env, testcase=self,
                               expect_clean_exit=True)
        ns.wait_for("READY", process=proc)
        harness.poll_until(lambda: len(ns.times("WATCHDOG")) >= 3, 20, what="pings")
        harness.poll_until(lambda: journal.events("task_discovered"), 20,
                           what="events in the journal")
        base_url = journal.events("daemon_started")[0]["listen"]

        # The journal hangs. Each SIGHUP logs a config_reloaded entry; once the socket's
        # queue is full, the next one blocks the loop thread in sendmsg.
        journal.reading.clear()
        blocked = False
        for _ in range(2000):  # the queue holds net.unix.max_dgram_qlen (often 10) entries
            mark = ns.count()
            proc.proc.send_signal(signal.SIGHUP)
            try:
                ns.wait_for("READY", since=mark, timeout=3, process=proc)
            except AssertionError:
                if not proc.alive():
                    raise
                blocked = True  # stuck sending a journal entry
                break
        self.assertTrue(blocked, "the event loop never blocked on the stalled journal")
        self.assertGreater(journal.pending(), 0, "blocked, but not on a full journal queue")
        self.assertTrue(proc.alive())

        # Wedged: no WATCHDOG=1 for four intervals' worth (pings are due every second).
        wedged_at = time.monotonic()
        while time.monotonic() < wedged_at + 4:
            time.sleep(0.1)
        late = [t for t in ns.times("WATCHDOG") if t > wedged_at]
        self.assertEqual(late, [], "WATCHDOG=1 sent while the event loop was blocked")
        # /healthz cannot answer either: the same thread serves it.
        with self.assertRaises(OSError):
            http_status_on(base_url, timeout=1.0)

        # The journal catches up: the blocked reload completes and pings resume.
        resumed_from = time.monotonic()
        mark = ns.count()
        journal.reading.set()
        ns.wait_for("READY", since=mark, process=proc)  # the reload that was blocked
        harness.poll_until(lambda: [t for t in ns.times("WATCHDOG") if t > resumed_from], 10,
                           what="WATCHDOG=1 after the loop unblocked")
        self.assertEqual(http_status_on(base_url, timeout=5.0), 200)
        proc.proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.proc.wait(timeout=20), 0, proc.log_tail())


def http_status_on(base_url, timeout):
    c = harness.Client(base_url, timeout=timeout)
    try:
        return c.request("GET", "/healthz", sign=False).status
    finally:
        c.close()


if __name__ == "__main__":
    unittest.main()
