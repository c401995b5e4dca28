#!/usr/bin/env python3
"""The receiving end of the systemd notify protocol, for tests (standard library only).

systemd hands a Type=notify service NOTIFY_SOCKET, a Unix datagram socket, and reads
newline-separated KEY=VALUE assignments from it (sd_notify(3)); with WatchdogSec= it
also sets WATCHDOG_USEC and WATCHDOG_PID. A NotifySocket plays systemd's part: it owns
the socket, records every datagram with the monotonic time it arrived, and gives the
environment to hand to labelwatchd.

    ns = sd_notify.NotifySocket(testcase)
    env = ns.env(watchdog_usec=3_000_000)      # NOTIFY_SOCKET (+ WATCHDOG_USEC)
    msg = ns.wait_for("READY", timeout=30)     # the first datagram carrying READY=1
    pings = ns.times("WATCHDOG")

Every datagram is one Message: `fields` (dict), `raw` (str), `at` (time.monotonic()).
"""

import os
import socket
import tempfile
import threading
import time

__all__ = ["NotifySocket", "Message", "exec_prefix"]


class Message:
    def __init__(self, raw, at):
        self.raw = raw
        self.at = at
        self.hook_result = None
        self.hook_error = None
        self.fields = {}
        for line in raw.split("\n"):
            if not line:
                continue
            key, sep, value = line.partition("=")
            if not sep:
                raise AssertionError(f"notify datagram line without '=': {line!r} in {raw!r}")
            self.fields[key] = value

    def __contains__(self, key):
        return key in self.fields

    def get(self, key, default=None):
        return self.fields.get(key, default)

    def __repr__(self):
        return f"Message({self.raw!r} at {self.at:.3f})"


class NotifySocket:
    """A bound AF_UNIX/SOCK_DGRAM socket read by a background thread."""

    def __init__(self, testcase=None):
        self.dir = tempfile.mkdtemp(prefix="lw-notify-")
        self.path = os.path.join(self.dir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self._messages = []
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._stop = False
        # Called in the reader thread with each Message before it is recorded, so a
        # test can look at the world at the moment a notification arrives.
        self.hook = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if testcase is not None:
            testcase.addCleanup(self.close)

    def env(self, watchdog_usec=None, watchdog_pid=None):
        e = {"NOTIFY_SOCKET": self.path}
        if watchdog_usec is not None:
            e["WATCHDOG_USEC"] = str(int(watchdog_usec))
        if watchdog_pid is not None:
            e["WATCHDOG_PID"] = str(watchdog_pid)
        return e

    def _run(self):
        while not self._stop:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            msg = Message(data.decode("utf-8", errors="strict"), time.monotonic())
            if self.hook is not None:
                try:
                    msg.hook_result = self.hook(msg)
                except Exception as e:  # noqa: BLE001 - recorded for the test to see
                    msg.hook_error = e
            with self._cond:
                self._messages.append(msg)
                self._cond.notify_all()

    def messages(self, key=None, since=0):
        """Datagrams received so far (from index `since`), optionally only those with `key`."""
        with self._lock:
            out = list(self._messages[since:])
        return [m for m in out if key is None or key in m]

    def count(self):
        with self._lock:
            return len(self._messages)

    def times(self, key, since=0):
        return [m.at for m in self.messages(key, since)]

    def wait_for(self, key, timeout=20.0, since=0, value=None, process=None):
        """Waits for the first datagram (at index >= since) holding `key` (and `value`)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for m in self._messages[since:]:
                    if key in m and (value is None or m.get(key) == value):
                        return m
                if process is not None and not process.alive():
                    raise AssertionError(f"{process.name} exited with {process.proc.returncode} "
                                         f"before sending {key}:\n{process.log_tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    got = [m.raw for m in self._messages[since:]][-10:]
                    raise AssertionError(f"no {key}{'=' + value if value else ''} notification "
                                         f"within {timeout}s; last received: {got}")
                self._cond.wait(min(left, 0.2))

    def close(self):
        self._stop = True
        self._thread.join(timeout=2)
        self.sock.close()
        try:
            os.unlink(self.path)
            os.rmdir(self.dir)
        except OSError:
            pass


def exec_prefix(env_assignments):
    """A command prefix that runs the rest of argv through /bin/sh and `exec`, after
    exporting each NAME=value of env_assignments, where a value may use $$ (the shell's
    pid, which `exec` keeps). This is how a test hands WATCHDOG_PID=<the daemon's own
    pid> to a process it has not started yet, as systemd does."""
    exports = " ".join(f"{name}={value}" for name, value in env_assignments.items())
    return ["/bin/sh", "-c", f'export {exports}; exec "$@"', "sh"]
