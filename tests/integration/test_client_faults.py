#!/usr/bin/env python3
"""How the client behaves when the API misbehaves, through the real CLI against the
simulator's injected faults: Retry-After honoured (measured in the simulator journal),
backoff on 503, no retry of 500, network errors retried, a hanging response cut at the
request timeout, and truncated, malformed and oversized bodies each giving their own
classified error."""

import time
import unittest

import cli_util
import harness

DS = "WxCREuCkBSAlQr9xrde"
AUTO = "XGrRZuCV1qmMxnsmD5u"


class Faults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = harness.Sim.start(None, scenario="builtin:seeds")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        self.sim.clear_faults()
        self.since = self.sim.last_seq()

    def get_auto(self, *extra):
        return cli_util.run(self.sim, *extra, "get", "auto-task", "--dataset", DS, "--task", AUTO)

    def entries(self):
        return [e for e in self.sim.journal(since=self.since) if e["method"] == "GET"]

    def test_retry_after_seconds_is_honoured(self):
        self.sim.arm_fault(kind="throttle", endpoint="auto_task", count=1, retry_after=3)
        r = self.get_auto()
        self.assertEqual(r.returncode, 0, r)
        first, second = self.entries()
        self.assertEqual((first["status"], second["status"]), (429, 200))
        gap = second["time_ms"] - first["time_ms"]
        self.assertGreaterEqual(gap, 3000, "Retry-After: 3 must be waited out")
        self.assertLess(gap, 6000, "and not much longer")

    def test_retry_after_http_date_is_honoured(self):
        self.sim.arm_fault(kind="throttle", endpoint="auto_task", count=1, retry_after=3,
                           retry_after_format="http_date", code="APIG.0308")
        r = self.get_auto()
        self.assertEqual(r.returncode, 0, r)
        first, second = self.entries()
        self.assertEqual((first["status"], second["status"]), (429, 200))
        # An HTTP date has whole seconds: the wait ends within the second before.
        self.assertGreaterEqual(second["time_ms"] - first["time_ms"], 2000)

    def test_a_retry_after_beyond_the_budget_gives_up_at_once(self):
        self.sim.arm_fault(kind="throttle", endpoint="auto_task", count=1, retry_after=3600)
        r = self.get_auto()
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("throttled (HTTP 429) ModelArts.4206", r.stderr)
        self.assertLess(r.elapsed, 10)
        self.assertEqual(len(self.entries()), 1)

    def test_503_is_retried_with_backoff(self):
        self.sim.arm_fault(kind="error", status=503, endpoint="auto_task", count=2)
        r = self.get_auto()
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual([e["status"] for e in self.entries()], [503, 503, 200])

    def test_persistent_503_stops_within_the_budget(self):
        self.sim.arm_fault(kind="error", status=503, endpoint="auto_task")
        r = self.get_auto()
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("server_error (HTTP 503)", r.stderr)
        self.assertEqual(len(self.entries()), 4)  # the default budget: 4 attempts

    def test_500_is_not_retried(self):
        self.sim.arm_fault(kind="error", status=500, endpoint="auto_task", count=1)
        r = self.get_auto()
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("server_error (HTTP 500) ModelArts.0010", r.stderr)
        self.assertEqual(len(self.entries()), 1)

    def test_a_closed_connection_is_a_retried_network_error(self):
        self.sim.arm_fault(kind="close", endpoint="auto_task", count=1)
        r = self.get_auto()
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual([e["status"] for e in self.entries()], [0, 200])

    def test_a_hanging_response_is_cut_at_request_timeout(self):
        self.sim.arm_fault(kind="hang", endpoint="auto_task", count=1)
        r = self.get_auto("--timeout", "1500ms")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("timeout: timed out after 1s500ms reading the response", r.stderr)
        self.assertGreaterEqual(r.elapsed, 1.4)
        self.assertLess(r.elapsed, 6)
        self.assertEqual(len(self.entries()), 1, "a timed-out request is not multiplied")

    def test_a_body_cut_by_a_reset_is_a_truncated_response(self):
        self.sim.arm_fault(kind="reset", endpoint="sample_list", count=4, partial_bytes=40)
        r = cli_util.run(self.sim, "list", "samples", "--dataset", DS)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("network: response truncated", r.stderr)

    def test_truncated_json_is_a_decode_error_with_its_position(self):
        self.sim.arm_fault(kind="truncated_json", endpoint="auto_task", count=1)
        r = self.get_auto()
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("decode (HTTP 200)", r.stderr)
        self.assertRegex(r.stderr, r"line \d+|offset \d+|column \d+")
        self.assertEqual(len(self.entries()), 1)

    def test_malformed_json_is_a_decode_error(self):
        self.sim.arm_fault(kind="malformed_json", endpoint="auto_task", count=1)
        r = self.get_auto()
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("decode (HTTP 200)", r.stderr)

    def test_an_oversized_body_is_refused(self):
        self.sim.arm_fault(kind="oversized", endpoint="auto_task", count=1)
        r = self.get_auto()
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("body_too_large: response body exceeds the limit of 16777216 bytes",
                      r.stderr)
        self.assertEqual(len(self.entries()), 1)

    def test_quirky_documents_still_decode(self):
        for kind in ("numbers_as_strings", "missing_optional", "extra_fields", "unknown_status"):
            self.sim.arm_fault(kind=kind, endpoint="auto_task", count=1)
            r = self.get_auto()
            self.assertEqual(r.returncode, 0, (kind, r))
            doc = r.json()
            if kind == "unknown_status":
                self.assertEqual((doc["status"], doc["status_code"]), ("unknown", 42))
            else:
                self.assertEqual(doc["status"], "running", kind)


if __name__ == "__main__":
    unittest.main()
