#!/usr/bin/env python3
"""A real browser (headless Chromium) loads the status page served by the real endpoints
(observe_fixture_server): the rendered DOM shows every task with its status and
progress, the task named `<script>alert(1)</script>` is text, not an element, the
inline stylesheet passes the Content-Security-Policy, and a screenshot is saved in the
test output folder (<build>/test-output/status_page/).

The same helpers (browser.py) serve the daemon-against-simulator test once the daemon
is wired."""

import struct
import unittest

import browser
import observe_fixture


class observe_browser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._holder = unittest.TestCase()
        cls.fx = observe_fixture.Fixture(cls._holder, tick_ms=1000)

    @classmethod
    def tearDownClass(cls):
        cls._holder.doCleanups()

    def test_rendered_dom_shows_tasks_statuses_and_progress(self):
        out, err = browser.run(["--enable-logging=stderr", "--v=0", "--dump-dom", self.fx.url + "/"])
        self.assertNotIn("Content Security Policy", err, "the page violates its own CSP")
        dom = browser.parse(out)

        rows = {r.attrs["data-task-id"]: r for r in dom.find_all("tr", cls="task")}
        self.assertEqual(set(rows), {"XGrRZuCV1qmMxnsmD5u", "iYZx7gScPUozOXner9k",
                                     "failedTask0001", "stalledTeam01"})
        for task_id, row in rows.items():
            with self.subTest(task=task_id):
                status = row.find(cls="status")
                self.assertEqual(status.text(), row.attrs["data-status"])
                progress = float(row.attrs["data-progress"])
                self.assertTrue(0.0 <= progress <= 1.0)
                shown = row.find(cls="progress-value").text()
                self.assertRegex(shown, r"^\d+(\.\d)?%$")
                self.assertAlmostEqual(float(shown[:-1]) / 100, progress, delta=0.001)

        self.assertIn(rows["XGrRZuCV1qmMxnsmD5u"].attrs["data-status"], ("running", "succeeded"))
        self.assertEqual(rows["iYZx7gScPUozOXner9k"].attrs["data-status"], "accepting")
        self.assertIn("is-failed", rows["failedTask0001"].classes)
        self.assertEqual(rows["failedTask0001"].attrs["data-status"], "failed")
        self.assertIn("is-stalled", rows["stalledTeam01"].classes)
        self.assertEqual(rows["stalledTeam01"].find("span", cls="stalled").text(), "stalled")

        # Grouped by dataset.
        sections = {s.attrs["data-dataset-id"]: s for s in dom.find_all("section", cls="dataset")
                    if "data-dataset-id" in s.attrs}
        self.assertEqual(set(sections), {"WxCREuCkBSAlQr9xrde", "ds-quality"})
        in_quality = {r.attrs["data-task-id"] for r in sections["ds-quality"].find_all("tr", cls="task")}
        self.assertEqual(in_quality, {"failedTask0001", "stalledTeam01"})

        # Team task breakdown and acceptance figures.
        team = rows["iYZx7gScPUozOXner9k"]
        self.assertEqual(team.find("dd", data_state="unannotated").text(), "310")
        self.assertEqual(team.find("dl", cls="acceptance").find("dd", data_state="checked").text(), "50")
        self.assertEqual(team.find(cls="acceptance-pass-rate").text(), "96%")

        # Markup in a task name is text: no script element exists anywhere.
        self.assertEqual(dom.find_all("script"), [])
        self.assertEqual(rows["failedTask0001"].find(cls="task-name").text(),
                         "<script>alert(1)</script>")
        self.assertIn("<out of memory>", rows["failedTask0001"].find(cls="api-error").text())

        # The latest events, newest first.
        events = dom.find("table", id="events").find_all("tr", cls="event")
        self.assertGreaterEqual(len(events), 4)
        self.assertIn("task_discovered", {e.attrs["data-event"] for e in events})

    def test_screenshot(self):
        path = browser.output_dir("status_page") / "status_page.png"
        browser.screenshot(self.fx.url + "/", path, width=1280, height=1400)
        data = path.read_bytes()
        width, height = struct.unpack(">II", data[16:24])  # IHDR
        self.assertEqual((width, height), (1280, 1400))
        self.assertGreater(len(data), 20_000, "an empty page compresses far smaller")
        print(f"\nstatus page screenshot: {path}")


if __name__ == "__main__":
    unittest.main()
