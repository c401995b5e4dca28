#!/usr/bin/env python3
"""labelwatch-sim fault injection over real TLS connections: each fault kind does on the
wire what the README says, is armed and disarmed through the control API (or the
scenario file), and shows up in the journal."""

import email.utils
import http.client
import json
import os
import socket
import ssl
import tempfile
import time
import unittest

import harness

DS = "WxCREuCkBSAlQr9xrde"
AUTO = "XGrRZuCV1qmMxnsmD5u"
TEAM = "iYZx7gScPUozOXner9k"


class Faults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = harness.Sim.start(None, scenario="builtin:seeds")
        cls.auto_url = cls.sim.v2(f"/datasets/{DS}/tasks/{AUTO}")
        cls.team_url = cls.sim.v2(f"/datasets/{DS}/workforce-tasks/{TEAM}")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        self.sim.clear_faults()
        self.since = self.sim.last_seq()

    def arm(self, **spec):
        spec.setdefault("count", 1)
        return self.sim.arm_fault(**spec)

    def get(self, url=None, client=None, **kw):
        return (client or self.sim.client).request("GET", url or self.auto_url, **kw)

    def assert_healthy_again(self):
        r = self.get()
        self.assertEqual(r.status, 200, "the fault must disarm after its count")
        json.loads(r.body)

    def test_throttle_with_retry_after_seconds(self):
        fid = self.arm(kind="throttle", endpoint="auto_task", retry_after=3)
        r = self.get()
        self.assertEqual(r.status, 429)
        self.assertEqual(r.header("retry-after"), "3")
        self.assertEqual(r.json()["error_code"], "ModelArts.4206")
        entry = self.sim.journal(since=self.since)[0]
        self.assertEqual((entry["status"], entry["fault"]), (429, f"throttle:{fid}"))
        self.assert_healthy_again()

    def test_throttle_apig_with_http_date(self):
        self.arm(kind="throttle", code="APIG.0308", retry_after=5, retry_after_format="http_date")
        before = time.time()
        r = self.get()
        self.assertEqual(r.status, 429)
        body = r.json()
        self.assertEqual(body["error_code"], "APIG.0308")
        self.assertIn("throttling threshold", body["error_msg"])
        when = email.utils.parsedate_to_datetime(r.header("retry-after")).timestamp()
        self.assertGreaterEqual(when, int(before) + 4)
        self.assertLessEqual(when, time.time() + 6)

    def test_server_errors(self):
        for status, code in ((503, "ModelArts.4700"), (500, "ModelArts.0010"), (502, "APIG.0201")):
            self.arm(kind="error", status=status)
            r = self.get()
            self.assertEqual((r.status, r.json()["error_code"]), (status, code))
        self.assert_healthy_again()

    def test_fault_scoped_to_a_task_and_method(self):
        self.arm(kind="error", task_id=TEAM, count=5)
        self.assertEqual(self.get().status, 200, "another task is not affected")
        self.assertEqual(self.get(self.team_url).status, 503)
        self.sim.clear_faults()
        self.arm(kind="error", method="PUT", count=5)
        self.assertEqual(self.get().status, 200)

    def test_delay_beyond_the_client_timeout(self):
        self.arm(kind="delay", delay="2s")
        impatient = self.sim.new_client(timeout=0.5)
        with self.assertRaises((socket.timeout, TimeoutError)):
            self.get(client=impatient)
        impatient.close()
        # The delayed answer is complete once it comes.
        self.arm(kind="delay", delay="300ms")
        t = time.monotonic()
        r = self.get()
        self.assertGreaterEqual(time.monotonic() - t, 0.3)
        self.assertEqual(r.status, 200)

    def test_hang_never_answers(self):
        self.arm(kind="hang")
        c = self.sim.new_client(timeout=0.7)
        with self.assertRaises((socket.timeout, TimeoutError)):
            self.get(client=c)
        c.close()
        entry = harness.poll_until(
            lambda: [e for e in self.sim.journal(since=self.since) if e["fault"] and
                     e["fault"].startswith("hang") and e["duration_ms"] is not None],
            10, what="the hang to end after the client left")[0]
        self.assertEqual(entry["status"], 0)
        self.assert_healthy_again()

    def test_close_without_response(self):
        self.arm(kind="close")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
            self.get(client=self.sim.new_client())
        self.assert_healthy_again()

    def test_reset_mid_body(self):
        self.arm(kind="reset", partial_bytes=20)
        c = self.sim.new_client()
        with self.assertRaises((http.client.IncompleteRead, ConnectionResetError, ssl.SSLError)):
            self.get(client=c)
        self.assert_healthy_again()

    def test_truncated_and_malformed_json(self):
        for kind in ("truncated_json", "malformed_json"):
            self.arm(kind=kind)
            r = self.get()
            self.assertEqual(r.status, 200)
            self.assertEqual(int(r.header("content-length")), len(r.body))
            with self.assertRaises(json.JSONDecodeError):
                json.loads(r.body)

    def test_oversized_body(self):
        self.arm(kind="oversized")  # 20 MiB by default
        r = self.get()
        self.assertEqual(len(r.body), 20 * 1024 * 1024)
        self.assertEqual(json.loads(r.body)["status"], 1, "valid JSON, just too big")

    def test_invalid_utf8(self):
        self.arm(kind="invalid_utf8")
        r = self.get(self.team_url)
        with self.assertRaises(UnicodeDecodeError):
            r.body.decode("utf-8")

    def test_document_shape_quirks(self):
        self.arm(kind="numbers_as_strings")
        doc = self.get(self.team_url, query={"sample_stats": "true"}).json()
        self.assertEqual(doc["status"], "1")
        self.assertEqual(doc["sample_stats"]["total_sample_count"], "317")
        self.arm(kind="unknown_status", status_code=77)
        self.assertEqual(self.get().json()["status"], 77)
        self.arm(kind="missing_optional")
        doc = self.get().json()
        self.assertNotIn("result", doc)
        self.assertNotIn("config", doc)
        self.assertEqual(doc["status"], 1)
        self.arm(kind="extra_fields")
        doc = self.get().json()
        self.assertIn("x_sim_extra", doc)
        self.assertIn("x_sim_note", doc["result"])

    def test_fault_for_a_time_window(self):
        self.sim.arm_fault(kind="error", **{"for": "1s"})
        self.assertEqual(self.get().status, 503)
        self.assertEqual(self.get().status, 503)
        harness.poll_until(lambda: self.get().status == 200, 10, what="the window to pass")

    def test_faults_listed_and_cleared(self):
        fid = self.sim.arm_fault(kind="error", id="mine", endpoint="dataset_list")
        self.assertEqual(fid, "mine")
        self.assertEqual([f["id"] for f in self.sim.faults()], ["mine"])
        self.sim.control("DELETE", "/faults/mine")
        self.assertEqual(self.sim.faults(), [])
        r = self.sim.control("POST", "/faults", body={"kind": "explode"}, expect=None)
        self.assertEqual(r.status, 400)
        self.assertIn("kind", r.json()["error"])


class ScenarioFaults(unittest.TestCase):
    def test_faults_from_the_scenario_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"project_id": "p1", "datasets": [{"dataset_id": "d", "auto_tasks": [{"task_id": "t"}]}],
                       "faults": [{"kind": "throttle", "endpoint": "auto_task", "count": 2,
                                   "retry_after": 1}]}, f)
        self.addCleanup(os.unlink, f.name)
        sim = harness.Sim.start(self, scenario=f.name)
        url = sim.v2("/datasets/d/tasks/t")
        self.assertEqual([sim.get(url).status for _ in range(3)], [429, 429, 200])
        self.assertEqual([e["fault"] is not None for e in sim.journal()], [True, True, False])


if __name__ == "__main__":
    unittest.main()
