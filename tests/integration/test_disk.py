#!/usr/bin/env python3
"""Disk failures of the state store (issue 8), on real file systems:

- a state directory the daemon's user cannot write, and one on a full file system:
  labelwatchd refuses to start with a clear message and exit code 2;
- the file system filling up while labelwatchd runs: a state_write_failed event and
  labelwatch_state_write_errors_total{reason="full"}, polling, metrics and the API carry
  on, the transition events wait (nothing is announced that is not on disk), and once
  there is room again the writes land, state_write_recovered and the held events go out
  exactly once, even when nothing changes any more.

A full disk is a small tmpfs mounted by the test (root with mount permission, as in CI);
the unwritable directory is checked as an unprivileged user (setpriv to 65534 when the
test runs as root). Tests that cannot get either skip with the reason."""

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

import harness

DS = "dsDisk000000000001"
NOBODY = 65534


def write_scenario(testcase, tasks):
    d = tempfile.mkdtemp(prefix="lw-disk-")
    testcase.addCleanup(harness._rmtree, d)  # noqa: SLF001
    path = os.path.join(d, "scenario.json")
    with open(path, "w") as f:
        json.dump({"datasets": [{"dataset_id": DS, "auto_tasks": [
            {"task_id": t, "task_name": t.lower(),
             "timeline": [{"at": "0s", "status": 1, "progress": 30.0}]} for t in tasks]}]}, f)
    return path


def mount_tmpfs(testcase, size):
    """A fresh tmpfs of `size` (e.g. "2m"); unmounted at cleanup. Skips the test when
    this process may not mount."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        testcase.skipTest("mounting a small tmpfs needs root")
    where = tempfile.mkdtemp(prefix="lw-tmpfs-")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", where],
                       capture_output=True, text=True)
    if r.returncode != 0:
        os.rmdir(where)
        testcase.skipTest(f"cannot mount a tmpfs here: {r.stderr.strip()}")

    def unmount():
        subprocess.run(["umount", "-l", where], check=False)
        os.rmdir(where)
    testcase.addCleanup(unmount)
    return where


def fill(directory):
    """Writes a file in `directory` until the file system is full; returns its path."""
    path = os.path.join(directory, "filler")
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                f.write(chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
        # Whatever is left in partial pages.
        while True:
            try:
                f.write(b"\0")
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
    return path


def config_text(state_path, extra=""):
    return ("[cloud]\nendpoint = \"https://127.0.0.1:9\"\n"
            "project_id = \"0123456789abcdef0123456789abcdef\"\n"
            "[auth]\nmethod = \"aksk\"\n"
            "[[watch]]\ndataset_id = \"" + DS + "\"\nauto_tasks = [\"autoDisk0000000001\"]\n"
            "discover = false\n"
            "[server]\nlisten = \"127.0.0.1:0\"\n"
            "[state]\npath = " + json.dumps(state_path) + "\n" + extra)


def run_daemon_once(testcase, config_path, as_user=None, timeout=30):
    """Runs labelwatchd to its exit; returns (exit code, stderr)."""
    argv = [harness.bin_path("labelwatchd"), "--config", config_path]
    if as_user is not None:
        argv = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups"] + argv
    env = dict(os.environ, HUAWEICLOUD_SDK_AK=harness.TEST_AK, HUAWEICLOUD_SDK_SK=harness.TEST_SK)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    return r.returncode, r.stderr


class StartupRefusals(unittest.TestCase):
    def test_an_unwritable_state_directory_is_exit_2_with_the_reason(self):
        work = tempfile.mkdtemp(prefix="lw-disk-")
        self.addCleanup(harness._rmtree, work)  # noqa: SLF001
        state_dir = os.path.join(work, "state")
        os.mkdir(state_dir)
        os.chmod(state_dir, 0o555)  # nobody may write (for root's child: not the owner)
        os.chmod(work, 0o755)
        config = os.path.join(work, "labelwatch.toml")
        with open(config, "w") as f:
            f.write(config_text(os.path.join(state_dir, "state.db")))
        os.chmod(config, 0o644)
        user = None
        if os.geteuid() == 0:
            if shutil.which("setpriv") is None:
                self.skipTest("setpriv is needed to drop root for this test")
            user = NOBODY
        code, err = run_daemon_once(self, config, as_user=user)
        self.assertEqual(code, 2, err)
        self.assertIn(state_dir, err)
        self.assertIn("Permission denied", err)
        self.assertFalse(os.path.exists(os.path.join(state_dir, "state.db")))

    def test_a_full_state_file_system_is_exit_2_with_the_reason(self):
        mnt = mount_tmpfs(self, "1m")
        fill(mnt)
        work = tempfile.mkdtemp(prefix="lw-disk-")
        self.addCleanup(harness._rmtree, work)  # noqa: SLF001
        config = os.path.join(work, "labelwatch.toml")
        state = os.path.join(mnt, "state.db")
        with open(config, "w") as f:
            f.write(config_text(state))
        code, err = run_daemon_once(self, config)
        self.assertEqual(code, 2, err)
        self.assertIn(state, err)
        self.assertIn("disk is full", err)


class DiskFullWhileRunning(unittest.TestCase):
    def test_writes_wait_for_space_and_events_are_held_not_lost(self):
        tasks = ["autoDisk0000000001", "autoDisk0000000002", "autoDisk0000000003"]
        mnt = mount_tmpfs(self, "4m")
        sim = harness.Sim.start(self, scenario=write_scenario(self, tasks))
        poll = {"active_interval": "1s", "idle_interval": "2s", "terminal_interval": "2s",
                "request_timeout": "5s"}
        d = harness.Daemon.start(self, sim, [{"dataset_id": DS, "discover": False,
                                              "auto_tasks": tasks}],
                                 poll=poll, state_path=os.path.join(mnt, "state.db"))
        d.wait_event("task_discovered", 20, count=len(tasks))
        harness.poll_until(lambda: all((d.task(t) or {}).get("last_success") for t in tasks), 20,
                           what="first polls")

        filler = fill(mnt)
        full_since = sim.last_seq()
        for t in tasks:
            sim.patch_task(t, {"status": 3, "progress": 100.0}, freeze=True)

        failed = d.wait_event("state_write_failed", 30)
        self.assertEqual(failed["reason"], "full", failed)
        self.assertIs(failed["retried"], True)
        self.assertIn("full", failed["message"])
        self.assertEqual(failed["level"], "error")
        self.assertGreaterEqual(d.metric("labelwatch_state_write_errors_total", reason="full"), 1)

        # Monitoring goes on from memory: every task is seen succeeded in /metrics and the
        # API, the simulator keeps being polled, the daemon stays healthy...
        for t in tasks:
            harness.poll_until(
                lambda t=t: d.metric("modelarts_auto_task_status", dataset_id=DS, task_id=t,
                                     status="succeeded") == 1, 20, what=f"{t} succeeded in /metrics")
            self.assertEqual(d.task(t)["status"], "succeeded")
        mark = sim.last_seq()
        harness.poll_until(lambda: len(sim.journal(since=mark, endpoint="auto_task",
                                                   status=200)) >= 2 * len(tasks),
                           20, what="polling continues on a full disk")
        self.assertEqual(d.get("/healthz").status, 200)
        # ...but no transition is announced while it is not on disk.
        self.assertEqual(d.events("task_status_changed"), [])
        self.assertEqual(len(d.events("state_write_failed")), 1)
        self.assertGreater(sim.last_seq(), full_since)

        # Room again: nothing changes any more, yet the kept writes land and the held
        # events go out, once.
        os.unlink(filler)
        recovered = d.wait_event("state_write_recovered", 30)
        self.assertGreaterEqual(recovered["held_events"], len(tasks))
        for t in tasks:
            d.wait_event("task_status_changed", 10, task_id=t, to="succeeded")
        names = [e["event"] for e in d.events()]
        first_change = names.index("task_status_changed")
        self.assertLess(names.index("state_write_recovered"), first_change)
        self.assertEqual(d.stop(), 0)

        db = sqlite3.connect(d.state_path)
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            codes = dict(db.execute("SELECT task_id, status_code FROM tasks").fetchall())
            self.assertEqual(codes, {t: 3 for t in tasks})
            moves = db.execute("SELECT task_id, from_code, to_code FROM transitions").fetchall()
            self.assertEqual(sorted(moves), sorted((t, 1, 3) for t in tasks))
        finally:
            db.close()

        # A restart finds it all on disk and repeats nothing.
        d.restart()
        mark = sim.last_seq()
        harness.poll_until(lambda: len(sim.journal(since=mark, endpoint="auto_task",
                                                   status=200)) >= len(tasks),
                           20, what="polls after the restart")
        harness.poll_until(lambda: all((d.task(t) or {}).get("last_success") for t in tasks), 10,
                           what="tasks seen after the restart")
        for t in tasks:
            self.assertEqual(len(d.events("task_status_changed", task_id=t)), 1, t)
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
