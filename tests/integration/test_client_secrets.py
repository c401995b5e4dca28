#!/usr/bin/env python3
"""No secret leaks: a full run of the CLI against the simulator (AK/SK and token auth,
successes and every kind of failure, a token refresh after a 401) is collected, and
neither the CLI's stdout/stderr nor the simulator's journal and logs may contain the
AK, the SK, the IAM password or any IAM token."""

import json
import threading
import unittest

import cli_util
import harness

DS = "WxCREuCkBSAlQr9xrde"
AUTO = "XGrRZuCV1qmMxnsmD5u"
TEAM = "iYZx7gScPUozOXner9k"
TOKEN_PREFIX = "MIIE"  # every token labelwatch-sim issues starts so (see test_sim.py)


class Secrets(unittest.TestCase):
    def assert_clean(self, what, text):
        for name, secret in (("AK", harness.TEST_AK), ("SK", harness.TEST_SK),
                             ("password", harness.TEST_PASSWORD), ("token", TOKEN_PREFIX)):
            self.assertNotIn(secret, text, f"{name} found in {what}")

    def test_a_full_run_leaks_nothing(self):
        outputs = []

        def record(r):
            outputs.append(r.stdout)
            outputs.append(r.stderr)
            return r

        # AK/SK: success, table output, a wrong SK, faults.
        aksk = harness.Sim.start(self, scenario="builtin:seeds")
        for args in (("get", "auto-task", "--dataset", DS, "--task", AUTO),
                     ("get", "workforce-task", "--dataset", DS, "--task", TEAM),
                     ("list", "samples", "--dataset", DS),
                     ("list", "datasets")):
            self.assertEqual(record(cli_util.run(aksk, *args)).returncode, 0)
            self.assertEqual(record(cli_util.run(aksk, *args, output="table")).returncode, 0)
        r = record(cli_util.run(aksk, "list", "datasets", env={"HUAWEICLOUD_SDK_SK": "wrong-" + harness.TEST_SK}))
        self.assertEqual(r.returncode, 1)
        aksk.arm_fault(kind="hang", endpoint="auto_task", count=1)
        record(cli_util.run(aksk, "--timeout", "500ms", "get", "auto-task", "--dataset", DS,
                            "--task", AUTO))
        for kind in ("malformed_json", "truncated_json", "reset"):
            aksk.arm_fault(kind=kind, endpoint="auto_task", count=1)
            record(cli_util.run(aksk, "get", "auto-task", "--dataset", DS, "--task", AUTO))
        record(cli_util.run(aksk, "list", "datasets", credentials=False,
                            env={"HUAWEICLOUD_SDK_AK": harness.TEST_AK,
                                 "HUAWEICLOUD_SDK_SK": harness.TEST_SK + " x"}))

        # Token auth: success, a refresh after the server rejects the token, a wrong password.
        token = harness.Sim.start(self, scenario=cli_util.write_scenario(
            self, cli_util.paging_scenario(autos=20)), auth="token")
        done = {}

        def slow_list():
            done["r"] = record(cli_util.run(token, "--max-rate", "4", "list", "auto-tasks",
                                            "--dataset", "ds-paging", "--page-size", "2"))

        t = threading.Thread(target=slow_list)
        t.start()
        harness.poll_until(lambda: any(e["method"] == "GET" and e["status"] == 200
                                       for e in token.journal()), 20, what="a first page")
        token.control("POST", "/tokens/expire")
        t.join(120)
        self.assertEqual(done["r"].returncode, 0, done["r"])
        self.assertTrue(any(e["status"] == 401 for e in token.journal()), "a refresh happened")
        r = record(cli_util.run(token, "list", "datasets",
                                env={"HUAWEICLOUD_SDK_PASSWORD": "not-" + harness.TEST_PASSWORD}))
        self.assertEqual(r.returncode, 1)

        for i, text in enumerate(outputs):
            self.assert_clean(f"CLI output #{i}", text)
        for sim in (aksk, token):
            self.assert_clean("the simulator journal", json.dumps(sim.journal(limit=100000)))
            self.assert_clean("the simulator's stdout", sim.process.stdout())
            self.assert_clean("the simulator's stderr", sim.process.stderr())


if __name__ == "__main__":
    unittest.main()
