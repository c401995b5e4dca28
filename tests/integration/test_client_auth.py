#!/usr/bin/env python3
"""The ModelArts client through the real `labelwatch` CLI against a real labelwatch-sim
over TLS: AK/SK and IAM token authentication, a wrong SK (one request, one clear error,
no retry storm), token refresh before expiry and after a 401, a wrong password, TLS
verification, --config and the exit codes."""

import json
import os
import tempfile
import threading
import time
import unittest

import cli_util
import harness

DS = "WxCREuCkBSAlQr9xrde"
AUTO = "XGrRZuCV1qmMxnsmD5u"
TEAM = "iYZx7gScPUozOXner9k"
SAMPLE_ID = "0059c1b9458a2da9443af684b5099b4e"


class AkSk(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = harness.Sim.start(None, scenario="builtin:seeds")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        self.sim.clear_faults()
        self.since = self.sim.last_seq()

    def test_get_auto_task_signed_and_decoded(self):
        r = cli_util.run(self.sim, "get", "auto-task", "--dataset", DS, "--task", AUTO)
        self.assertEqual(r.returncode, 0, r)
        doc = r.json()
        self.assertEqual(doc["task_id"], AUTO)  # filled in: the seed detail has no task_id
        self.assertEqual(doc["dataset_id"], DS)
        self.assertEqual(doc["status"], "running")
        self.assertEqual(doc["status_code"], 1)
        self.assertEqual(doc["progress"], 10.0)
        self.assertEqual(doc["result"]["total_sample_count"], 49)
        self.assertEqual(doc["create_time"], "2020-11-23T11:08:20.000Z")
        entries = self.sim.journal(since=self.since)
        self.assertEqual(len(entries), 1, entries)
        self.assertEqual((entries[0]["method"], entries[0]["status"], entries[0]["auth"]),
                         ("GET", 200, "ok"))

    def test_get_workforce_task_asks_for_the_statistics(self):
        r = cli_util.run(self.sim, "get", "workforce-task", "--dataset", DS, "--task", TEAM,
                         "--label-stats")
        self.assertEqual(r.returncode, 0, r)
        doc = r.json()
        self.assertEqual(doc["status"], "running")
        self.assertEqual(doc["sample_stats"]["total_sample_count"], 317)
        entry = self.sim.journal(since=self.since)[0]
        query = dict(kv.split("=") for kv in entry["query"].split("&"))
        self.assertEqual(query, {"sample_stats": "true", "workforce_stats": "true",
                                 "label_stats": "true"})

    def test_get_sample_never_prints_the_presigned_source(self):
        r = cli_util.run(self.sim, "get", "sample", "--dataset", DS, "--sample", SAMPLE_ID)
        self.assertEqual(r.returncode, 0, r)
        doc = r.json()
        self.assertEqual(doc["sample_id"], SAMPLE_ID)
        self.assertEqual(doc["sample_status"], "UN_ANNOTATION")
        self.assertNotIn("source", doc)
        self.assertNotIn("obs", r.stdout.lower())

    def test_table_output(self):
        r = cli_util.run(self.sim, "list", "auto-tasks", "--dataset", DS, output="table")
        self.assertEqual(r.returncode, 0, r)
        lines = r.stdout.splitlines()
        self.assertTrue(lines[0].startswith("TASK_ID"), r.stdout)
        self.assertIn(AUTO, lines[1])
        self.assertIn("running", lines[1])
        self.assertIn("10.0%", lines[1])
        r = cli_util.run(self.sim, "get", "auto-task", "--dataset", DS, "--task", AUTO,
                         output="table")
        self.assertRegex(r.stdout, r"(?m)^result\.total_sample_count +49$")

    def test_wrong_sk_is_one_request_and_one_clear_error(self):
        r = cli_util.run(self.sim, "get", "auto-task", "--dataset", DS, "--task", AUTO,
                         env={"HUAWEICLOUD_SDK_SK": "not-the-secret-key"})
        self.assertEqual(r.returncode, 1, r)
        entries = self.sim.journal(since=self.since)
        self.assertEqual(len(entries), 1, f"no retry storm: {entries}")
        self.assertEqual(entries[0]["status"], 401)
        self.assertIn("APIG.0301", r.stderr)
        self.assertIn("auth_failed (HTTP 401)", r.stderr)
        self.assertIn(f"request_id {entries[0]['request_id']}", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_an_unknown_task_names_the_code(self):
        r = cli_util.run(self.sim, "get", "auto-task", "--dataset", DS, "--task", "nope")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("not_found (HTTP 400) ModelArts.4612", r.stderr)
        self.assertEqual(len(self.sim.journal(since=self.since)), 1)

    def test_untrusted_certificate(self):
        argv = ["--endpoint", self.sim.base_url, "--project-id", self.sim.project_id]
        r = cli_util.run(self.sim, *argv, "list", "datasets", connection=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("tls: certificate verify failed", r.stderr)
        self.assertEqual(self.sim.journal(since=self.since), [])

    def test_hostname_is_verified(self):
        # The simulator's certificate names localhost, 127.0.0.1 and ::1: "localhost"
        # verifies; a certificate for another name must not.
        port = self.sim.port
        ok = cli_util.run(self.sim, "--endpoint", f"https://localhost:{port}", "--project-id",
                          self.sim.project_id, "--ca-file", self.sim.ca_file, "list", "datasets",
                          connection=False)
        self.assertEqual(ok.returncode, 0, ok)
        other = harness.Sim.start(self, scenario="builtin:seeds",
                                  args=["--tls-name", "wrong.example"])
        bad = cli_util.run(other, "list", "datasets")
        self.assertEqual(bad.returncode, 1, bad)
        self.assertIn("certificate verify failed: hostname mismatch", bad.stderr)

    def test_config_file_supplies_the_connection(self):
        d = tempfile.mkdtemp(prefix="lw-client-cfg-")
        self.addCleanup(lambda: __import__("shutil").rmtree(d, ignore_errors=True))
        with open(os.path.join(d, "ak"), "w") as f:
            f.write(self.sim.ak + "\n")
        with open(os.path.join(d, "sk"), "w") as f:
            f.write(self.sim.sk + "\n")
        cfg = os.path.join(d, "labelwatch.toml")
        with open(cfg, "w") as f:
            f.write(f'[cloud]\nendpoint = "{self.sim.base_url}"\n'
                    f'project_id = "{self.sim.project_id}"\nca_file = "{self.sim.ca_file}"\n'
                    f'[auth]\nmethod = "aksk"\naccess_key_file = "{d}/ak"\n'
                    f'secret_key_file = "{d}/sk"\n')
        r = cli_util.run(self.sim, "--config", cfg, "list", "datasets", connection=False,
                         credentials=False)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual([x["dataset_id"] for x in r.json()], [DS])
        # Flags win over the file; relative credential paths resolve against
        # $CREDENTIALS_DIRECTORY.
        os.rename(os.path.join(d, "sk"), os.path.join(d, "sk2"))
        r = cli_util.run(self.sim, "--config", cfg, "--secret-key-file", "sk2", "list", "datasets",
                         connection=False, credentials=False, env={"CREDENTIALS_DIRECTORY": d})
        self.assertEqual(r.returncode, 0, r)
        r = cli_util.run(self.sim, "--config", cfg, "list", "datasets", connection=False,
                         credentials=False)
        self.assertEqual(r.returncode, 2, r)
        self.assertIn(f"cannot read secret key file {d}/sk: No such file or directory", r.stderr)

    def test_credentials_from_the_systemd_credentials_directory(self):
        d = tempfile.mkdtemp(prefix="lw-client-creds-")
        self.addCleanup(lambda: __import__("shutil").rmtree(d, ignore_errors=True))
        for name, value in (("ak", self.sim.ak), ("sk", self.sim.sk)):
            with open(os.path.join(d, name), "w") as f:
                f.write(value + "\n")
        r = cli_util.run(self.sim, "list", "datasets", credentials=False,
                         env={"CREDENTIALS_DIRECTORY": d})
        self.assertEqual(r.returncode, 0, r)


class ExitCodes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = harness.Sim.start(None, scenario="builtin:seeds")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def test_usage_and_configuration_errors_exit_2(self):
        cases = [
            ((), "subcommand"),
            (("get",), "subcommand"),
            (("get", "auto-task", "--dataset", DS), "--task is required"),
            (("list", "auto-tasks", "--dataset", DS, "--output", "yaml"), "yaml"),
            (("--auth", "magic", "list", "datasets"), "--auth: expected aksk, token or none"),
            (("--timeout", "soon", "list", "datasets"), "--timeout"),
        ]
        for args, message in cases:
            r = cli_util.run(self.sim, *args, output=None)
            self.assertEqual(r.returncode, 2, (args, r))
            self.assertIn(message, r.stderr, args)
        r = cli_util.run(self.sim, "list", "datasets", connection=False)
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("no endpoint", r.stderr)
        r = cli_util.run(self.sim, "list", "datasets", credentials=False)
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("HUAWEICLOUD_SDK_AK", r.stderr)
        r = cli_util.run(self.sim, "--config", "/nonexistent/labelwatch.toml", "list", "datasets",
                         connection=False)
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("/nonexistent/labelwatch.toml", r.stderr)
        r = cli_util.run(self.sim, "--endpoint", self.sim.base_url, "--project-id",
                         self.sim.project_id, "--ca-file", "/nonexistent/ca.pem", "list",
                         "datasets", connection=False)
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("/nonexistent/ca.pem", r.stderr)

    def test_help_on_every_subcommand(self):
        for args in ((), ("get",), ("get", "auto-task"), ("get", "workforce-task"),
                     ("get", "sample"), ("list",), ("list", "auto-tasks"),
                     ("list", "workforce-tasks"), ("list", "samples"), ("list", "datasets")):
            r = cli_util.run(self.sim, *args, "--help", connection=False, output=None)
            self.assertEqual(r.returncode, 0, (args, r))
            self.assertIn("Usage: labelwatch", r.stdout, args)

    def test_version(self):
        r = cli_util.run(self.sim, "--version", connection=False, output=None)
        self.assertEqual(r.returncode, 0, r)
        self.assertRegex(r.stdout, r"^labelwatch \d+\.\d+\.\d+")


class Tokens(unittest.TestCase):
    def start(self, *args):
        return harness.Sim.start(self, scenario=cli_util.write_scenario(
            self, cli_util.paging_scenario(autos=40)), auth="token", args=list(args))

    def iam_posts(self, entries):
        return [e for e in entries if e["method"] == "POST" and e["path"] == "/v3/auth/tokens"]

    def test_token_auth_succeeds(self):
        sim = harness.Sim.start(self, scenario="builtin:seeds", auth="token")
        r = cli_util.run(sim, "get", "auto-task", "--dataset", DS, "--task", AUTO)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.json()["status"], "running")
        entries = sim.journal()
        self.assertEqual([(e["method"], e["status"]) for e in entries], [("POST", 201), ("GET", 200)])
        self.assertEqual(entries[1]["auth"], "ok")

    def test_token_expiring_mid_run_is_refreshed_before_it_fails(self):
        # 2 s tokens; the listing takes about 4 s (11 pages at 3 requests per second), so
        # the token is renewed during the run (at half its lifetime) and no request fails.
        sim = self.start("--token-lifetime", "2s")
        r = cli_util.run(sim, "--max-rate", "3", "list", "auto-tasks", "--dataset", "ds-paging",
                         "--page-size", "4")
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(sorted(t["task_id"] for t in r.json()),
                         [f"auto-{i:04d}" for i in range(40)])
        entries = sim.journal()
        self.assertGreaterEqual(len(self.iam_posts(entries)), 2, entries)
        self.assertEqual([e for e in entries if e["status"] != 201 and e["status"] != 200], [])

    def test_a_rejected_token_is_refreshed_once_and_the_request_retried(self):
        sim = self.start()
        out = {}

        def run():
            out["r"] = cli_util.run(sim, "--max-rate", "2", "list", "auto-tasks", "--dataset",
                                    "ds-paging", "--page-size", "4")

        t = threading.Thread(target=run)
        t.start()
        harness.poll_until(lambda: any(e["method"] == "GET" and e["status"] == 200
                                       for e in sim.journal()), 20, what="the first page")
        sim.control("POST", "/tokens/expire")
        t.join(120)
        r = out["r"]
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(len(r.json()), 40)
        entries = sim.journal()
        rejected = [e for e in entries if e["status"] == 401]
        self.assertEqual(len(rejected), 1, entries)
        after = entries[entries.index(rejected[0]) + 1:]
        self.assertEqual((after[0]["method"], after[0]["status"]), ("POST", 201), entries)
        self.assertEqual((after[1]["method"], after[1]["query"], after[1]["status"]),
                         ("GET", rejected[0]["query"], 200), entries)
        self.assertEqual(len(self.iam_posts(entries)), 2)

    def test_wrong_password_is_one_iam_request(self):
        sim = harness.Sim.start(self, scenario="builtin:seeds", auth="token")
        r = cli_util.run(sim, "list", "datasets", env={"HUAWEICLOUD_SDK_PASSWORD": "wrong"})
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("auth_failed (HTTP 401)", r.stderr)
        self.assertIn("The username or password is wrong.", r.stderr)
        entries = sim.journal()
        self.assertEqual([(e["method"], e["path"]) for e in entries], [("POST", "/v3/auth/tokens")])


if __name__ == "__main__":
    unittest.main()
