#!/usr/bin/env python3
"""Headless Chromium on labelwatchd's status page while the daemon watches
labelwatch-sim (issue 5, "Tests"): the rendered DOM shows every task with the status and
progress the daemon reports in /api/v1/tasks, failed tasks are highlighted with their
API error, the team task shows its acceptance figures, a task named
`<script>alert(1)</script>` (a name the simulator serves like any other) is rendered as
text with no script element anywhere, the page keeps to its own Content-Security-Policy,
and a screenshot is saved in <build>/test-output/daemon_status_page/."""

import json
import struct
import unittest

import browser
import daemon_util
import harness
from daemon_util import OBS_AUTO, OBS_DS, OBS_FAIL, OBS_TEAM, OBS_WATCH, OBS_XSS, XSS_NAME


class DaemonBrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._holder = unittest.TestCase()
        cls.sim = daemon_util.start_observe_sim(cls._holder, run_seconds=4)
        cls.d = daemon_util.start(cls._holder, cls.sim, OBS_WATCH)
        # Wait until nothing moves any more, so the page and the API describe one state.
        cls.d.wait_event("task_status_changed", 30, task_id=OBS_AUTO, to="succeeded")
        cls.d.wait_event("task_status_changed", 30, task_id=OBS_FAIL, to="failed")
        harness.poll_until(lambda: cls.d.task(OBS_TEAM) and cls.d.task(OBS_XSS), 30,
                           what="every task polled")

    @classmethod
    def tearDownClass(cls):
        cls._holder.doCleanups()

    def test_rendered_dom_matches_the_daemon(self):
        api = {t["task_id"]: t for t in self.d.tasks()}
        out, err = browser.run(["--enable-logging=stderr", "--v=0", "--dump-dom", self.d.base_url + "/"])
        self.assertNotIn("Content Security Policy", err, "the page violates its own CSP")
        dom = browser.parse(out)

        rows = {r.attrs["data-task-id"]: r for r in dom.find_all("tr", cls="task")}
        self.assertEqual(set(rows), {OBS_AUTO, OBS_FAIL, OBS_XSS, OBS_TEAM})
        self.assertEqual(set(rows), set(api))
        for task_id, row in rows.items():
            with self.subTest(task=task_id):
                self.assertEqual(row.attrs["data-dataset-id"], OBS_DS)
                self.assertEqual(row.attrs["data-status"], api[task_id]["status"])
                self.assertEqual(row.find(cls="status").text(), api[task_id]["status"])
                self.assertEqual(row.find(cls="task-name").text(), api[task_id]["task_name"])
                if row.attrs["data-progress"]:
                    progress = float(row.attrs["data-progress"])
                    shown = row.find(cls="progress-value").text()
                    self.assertRegex(shown, r"^\d+(\.\d)?%$")
                    self.assertAlmostEqual(float(shown[:-1]) / 100, progress, delta=0.001)

        self.assertEqual(rows[OBS_AUTO].attrs["data-status"], "succeeded")
        self.assertEqual(rows[OBS_AUTO].find(cls="progress-value").text(), "100%")
        self.assertEqual(rows[OBS_XSS].attrs["data-status"], "running")
        self.assertEqual(rows[OBS_XSS].find(cls="progress-value").text(), "40%")
        self.assertEqual(rows[OBS_TEAM].attrs["data-status"], "accepting")
        self.assertEqual(rows[OBS_TEAM].find("dl", cls="acceptance").find("dd", data_state="checked").text(), "8")

        # The failed task is highlighted and carries the API's error.
        failed = rows[OBS_FAIL]
        self.assertEqual(failed.attrs["data-status"], "failed")
        self.assertIn("is-failed", failed.classes)

        # Markup in a task name is text: no script element exists anywhere.
        self.assertEqual(dom.find_all("script"), [])
        self.assertEqual(rows[OBS_XSS].find(cls="task-name").text(), XSS_NAME)

        # The latest events, newest first, include the ones this run produced.
        events = dom.find("table", id="events").find_all("tr", cls="event")
        kinds = {e.attrs["data-event"] for e in events}
        self.assertTrue({"task_status_changed", "task_discovered"} <= kinds, kinds)

    def test_raw_page_escapes_the_name(self):
        r = daemon_util.request(self.d, "GET", "/")
        self.assertEqual(r.status, 200)
        self.assertIn(b"&lt;script&gt;alert(1)&lt;/script&gt;", r.body)
        self.assertNotIn(b"<script", r.body)
        self.assertTrue(r.headers["content-security-policy"].startswith("default-src 'none'"))
        # The JSON API carries the name as data, unescaped.
        tasks = json.loads(daemon_util.request(self.d, "GET", "/api/v1/tasks").body)["tasks"]
        self.assertIn(XSS_NAME, [t["task_name"] for t in tasks])

    def test_screenshot(self):
        path = browser.output_dir("daemon_status_page") / "status_page.png"
        browser.screenshot(self.d.base_url + "/", path, width=1280, height=1000)
        data = path.read_bytes()
        width, height = struct.unpack(">II", data[16:24])  # IHDR
        self.assertEqual((width, height), (1280, 1000))
        self.assertGreater(len(data), 20_000, "an empty page compresses far smaller")
        print(f"\nstatus page screenshot: {path}")


if __name__ == "__main__":
    unittest.main()
