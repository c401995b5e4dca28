#!/usr/bin/env python3
"""labelwatch-sim as a process: every endpoint over TLS with AK/SK, the seed shapes,
authentication failures and lockout, IAM tokens, the journal, the control API,
pagination in both modes and the command line."""

import datetime
import json
import os
import signal
import ssl
import subprocess
import tempfile
import unittest
import urllib.parse

import harness

DS = "WxCREuCkBSAlQr9xrde"
AUTO = "XGrRZuCV1qmMxnsmD5u"
TEAM = "iYZx7gScPUozOXner9k"
SAMPLE = "0059c1b9458a2da9443af684b5099b4e"

# The example responses of the API pages (reference/seeds 000, 001, 002).
SEED_AUTO = {
    "resource_id": "XGrRZuCV1qmMxnsmD5u", "create_time": "2020-11-23 11:08:20", "progress": 10.0,
    "status": 1, "message": "Start to export annotations. Export task id is jMZGm2SBp4Ymr2wrhAK",
    "code": "ModelArts.4902", "elapsed_time": 0,
    "result": {"total_sample_count": 49, "annotated_sample_count": 30}, "export_type": 0,
    "config": {"ambiguity": False, "worker_server_num": 0, "collect_sample": False,
               "algorithm_type": "fast", "image_brightness": False, "image_colorfulness": False}}
SEED_STATS = {"total_sample_count": 317, "unannotated_sample_count": 310, "unreviewed_sample_count": 0,
              "uncheck_sample_count": 0, "sampled_sample_count": 0, "rejected_sample_count": 0,
              "accepted_sample_count": 7, "auto_annotation_sample_count": 0}
SEED_TEAM = {
    "dataset_id": "WxCREuCkBSAlQr9xrde", "task_id": "iYZx7gScPUozOXner9k", "task_name": "task-e63f",
    "status": 1, "create_time": 1606184400278, "update_time": 1606184400278, "repetition": 1,
    "workforces_config": {"workforces": [{"workforce_id": "q3ZFSwORu1ztKljDLYQ", "workers": [
        {"email": "xxx@xxx.com", "worker_id": "afdda13895bc66322ffbf36ae833bcf0", "role": 0}]}]},
    "synchronize_data": False, "synchronize_auto_labeling_data": False,
    "workforce_stats": {"workforce_count": 1, "labeler_count": 1, "reviewer_count": 0},
    "sample_stats": SEED_STATS,
    "checking_task_desc": {"checking_task_id": "onSbri2oqYOmDjDyW17", "action": 0,
                           "overwrite_last_result": False},
    "auto_sync_dataset": True,
    "worker_stats": [{"email": "xxx@xxx.com", "worker_id": "afdda13895bc66322ffbf36ae833bcf0", "role": 0,
                      "task_id": "iYZx7gScPUozOXner9k", "workforce_task_name": "task-e63f",
                      "dataset_id": "WxCREuCkBSAlQr9xrde", "sample_stats": SEED_STATS,
                      "create_time": 1606184400278, "update_time": 1606184795050, "email_status": 3,
                      "last_notify_time": 0}]}
SEED_SAMPLE = {
    "sample_id": "0059c1b9458a2da9443af684b5099b4e", "sample_type": 0,
    "labels": [{"name": "Bees", "type": 0, "id": "1",
                "property": {"@modelarts:hard_coefficient": "0.0", "@modelarts:hard": "false"},
                "score": 0.66}],
    "source": "https://test-obs.obs.xxx.com:443/data/3_1597649054631.jpg?AccessKeyId=RciyO7RHmhNTfOZVryUH&Expires=1606299474&Signature=anOLGOHPSrj3WXUHVc70tAxWlf4%3D",
    "metadata": {"@modelarts:hard_coefficient": 0.0, "@modelarts:hard": False,
                 "@modelarts:import_origin": 0, "@modelarts:hard_reasons": []},
    "sample_time": 1600490651933, "sample_status": "UN_ANNOTATION"}


class SeedEndpoints(unittest.TestCase):
    """One simulator (builtin:seeds, TLS, AK/SK) shared by the read-only checks."""

    @classmethod
    def setUpClass(cls):
        cls.sim = harness.Sim.start(None, scenario="builtin:seeds")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def get(self, suffix, **kw):
        return self.sim.get(self.sim.v2(suffix), **kw)

    def test_ready_file_and_tls(self):
        self.assertTrue(self.sim.base_url.startswith("https://127.0.0.1:"))
        self.assertTrue(os.path.isabs(self.sim.ca_file))
        self.assertEqual(self.sim.project_id, "0123456789abcdef0123456789abcdef")

    def test_auto_task_detail_is_the_seed(self):
        r = self.get(f"/datasets/{DS}/tasks/{AUTO}")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), SEED_AUTO)
        self.assertIn(b'"progress":10.0', r.body)
        self.assertTrue(r.header("content-type").startswith("application/json"))
        self.assertRegex(r.header("x-request-id"), r"^[0-9a-f]{32}$")

    def test_workforce_task_detail_and_stats_flags(self):
        r = self.get(f"/datasets/{DS}/workforce-tasks/{TEAM}",
                     query={"label_stats": "true", "sample_stats": "true", "workforce_stats": "true"})
        self.assertEqual(r.json(), SEED_TEAM)
        bare = self.get(f"/datasets/{DS}/workforce-tasks/{TEAM}").json()
        self.assertNotIn("sample_stats", bare)
        self.assertNotIn("workforce_stats", bare)
        self.assertEqual(bare["checking_task_desc"], SEED_TEAM["checking_task_desc"])

    def test_sample_detail_is_the_seed(self):
        r = self.get(f"/datasets/{DS}/auto-annotations/samples/{SAMPLE}")
        self.assertEqual(r.json(), SEED_SAMPLE)

    def test_list_endpoints(self):
        tasks = self.get(f"/datasets/{DS}/tasks").json()
        self.assertEqual(set(tasks), {"tasks", "total_count", "exist_running_deploy_task"})
        self.assertEqual(tasks["total_count"], 1)
        item = tasks["tasks"][0]
        self.assertEqual((item["dataset_id"], item["task_id"], item["total_sample_count"]), (DS, AUTO, 49))
        teams = self.get(f"/datasets/{DS}/workforce-tasks").json()
        self.assertEqual(set(teams), {"count", "tasks"})
        self.assertEqual(teams["tasks"][0]["task_id"], TEAM)
        samples = self.get(f"/datasets/{DS}/auto-annotations/samples").json()
        self.assertEqual(set(samples), {"sample_count", "samples"})
        self.assertEqual(samples["samples"], [SEED_SAMPLE])
        datasets = self.get("/datasets").json()
        self.assertEqual(set(datasets), {"total_number", "datasets"})
        self.assertEqual(datasets["datasets"][0]["dataset_id"], DS)

    def test_not_found_answers(self):
        r = self.get(f"/datasets/{DS}/tasks/nope")
        self.assertEqual((r.status, r.json()), (400, {"error_code": "ModelArts.4612", "error_msg": "Task not found"}))
        r = self.get(f"/datasets/{DS}/workforce-tasks/nope")
        self.assertEqual((r.status, r.json()["error_code"]), (400, "ModelArts.4619"))
        r = self.sim.get("/v2/someoneelse/datasets")
        self.assertEqual((r.status, r.json()["error_code"]), (400, "ModelArts.0210"))
        r = self.get("/no-such-api")
        self.assertEqual((r.status, r.json()["error_code"]), (404, "APIG.0101"))

    def test_tampered_signature_is_refused_with_apig_0301(self):
        path = self.sim.v2(f"/datasets/{DS}/tasks/{AUTO}")
        c = self.sim.client
        hdrs = {"Host": c.host_header(), "X-Sdk-Date": harness.sdk_date()}
        auth = harness.sign_request("GET", path, "", hdrs, b"", self.sim.ak, self.sim.sk)
        since = self.sim.last_seq()
        good = c.request("GET", path, headers=dict(hdrs, Authorization=auth), sign=False)
        self.assertEqual(good.status, 200)
        tampered = auth[:-4] + ("0000" if not auth.endswith("0000") else "1111")
        r = c.request("GET", path, headers=dict(hdrs, Authorization=tampered), sign=False)
        self.assertEqual(r.status, 401)
        body = r.json()
        self.assertEqual(body["error_code"], "APIG.0301")
        self.assertEqual(body["error_msg"], "Incorrect IAM authentication information: verify aksk signature fail")
        self.assertEqual(body["request_id"], r.header("x-request-id"))
        entries = self.sim.journal(since=since)
        self.assertEqual([e["auth"] for e in entries], ["ok", "signature_mismatch"])
        journal_text = json.dumps(self.sim.journal(since=0))
        self.assertNotIn(self.sim.sk, journal_text)
        self.assertNotIn(self.sim.ak, journal_text)

    def test_signature_covers_query_and_body(self):
        c = self.sim.client
        path = self.sim.v2(f"/datasets/{DS}/tasks")
        hdrs = {"Host": c.host_header(), "X-Sdk-Date": harness.sdk_date()}
        auth = harness.sign_request("GET", path, "limit=1", hdrs, b"", self.sim.ak, self.sim.sk)
        r = c.request("GET", path, query="limit=2", headers=dict(hdrs, Authorization=auth), sign=False)
        self.assertEqual(r.status, 401)
        # Signing a header set that includes content-type works as well (the doc's example).
        r = c.request("GET", path, query={"limit": 1}, headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r.body)

    def test_wrong_secret_skew_and_missing_headers(self):
        r = self.sim.new_client(sk="not-the-secret").request("GET", self.sim.v2("/datasets"))
        self.assertEqual((r.status, r.json()["error_code"]), (401, "APIG.0301"))
        old = harness.sdk_date(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20))
        r = self.sim.get(self.sim.v2("/datasets"), date=old)
        self.assertEqual(r.status, 401)
        self.assertIn("not within 15m", r.json()["error_msg"])
        r = self.sim.get(self.sim.v2("/datasets"), sign=False)
        self.assertEqual(r.status, 401)
        self.assertIn("Authorization header not found", r.json()["error_msg"])
        self.sim.control("DELETE", "/lockouts")

    def test_tls_is_verified_by_name_and_ca(self):
        # The certificate names localhost and 127.0.0.1.
        c = harness.Client(f"https://localhost:{self.sim.port}", self.sim.ca_file,
                           ak=self.sim.ak, sk=self.sim.sk)
        self.assertEqual(c.request("GET", self.sim.v2("/datasets")).status, 200)
        c.close()
        # Without the CA the handshake fails.
        untrusted = harness.Client(self.sim.base_url, None)
        with self.assertRaises(ssl.SSLCertVerificationError):
            untrusted.request("GET", "/_sim/view", sign=False)

    def test_every_response_has_a_request_id(self):
        for r in (self.get("/datasets"), self.get("/nothing"), self.sim.control("GET", "/view"),
                  self.sim.get(self.sim.v2("/datasets"), sign=False)):
            self.assertTrue(r.header("x-request-id"))


class Lifecycle(unittest.TestCase):
    """Changes over time and through the control API: each test gets its own simulator."""

    def test_acceptance_put_moves_through_syncing(self):
        sim = harness.Sim.start(self, scenario="builtin:seeds")
        sim.settings(acceptance_sync="1s")
        url = sim.v2(f"/datasets/{DS}/workforce-tasks/{TEAM}/acceptance/status")
        r = sim.put(url, {"action": 0}, query={"locale": "en-us"})
        self.assertEqual((r.status, r.json()["error_code"]), (400, "ModelArts.4624"))
        sim.patch_task(TEAM, {"status": 2, "sample_stats": {"uncheck_sample_count": 10}})
        for bad_query, bad_body in ((None, {"action": 0}), ({"locale": "de"}, {"action": 0}),
                                    ({"locale": "en-us"}, {"action": 9})):
            r = sim.put(url, bad_body, query=bad_query)
            self.assertEqual((r.status, r.json()["error_code"]), (400, "ModelArts.0101"))
        since = sim.last_seq()
        r = sim.put(url, {"action": 0, "overwrite_last_result": False}, query={"locale": "en-us"})
        self.assertEqual((r.status, r.json()), (200, {}))
        detail = sim.get(sim.v2(f"/datasets/{DS}/workforce-tasks/{TEAM}")).json()
        self.assertEqual(detail["status"], 5)
        harness.poll_until(lambda: sim.task_status(TEAM) == 3, 10, what="accepted after the sync")
        accepted = sim.get(sim.v2(f"/datasets/{DS}/workforce-tasks/{TEAM}"),
                           query={"sample_stats": "true"}).json()
        self.assertEqual(accepted["sample_stats"]["accepted_sample_count"], 17)
        puts = sim.journal(since=since, method="PUT", endpoint="acceptance")
        self.assertEqual(len(puts), 1)
        self.assertEqual(json.loads(puts[0]["body"]), {"action": 0, "overwrite_last_result": False})
        self.assertEqual(puts[0]["status"], 200)

    def test_acceptance_action_3_and_cancel(self):
        sim = harness.Sim.start(self, scenario="builtin:seeds")
        sim.patch_task(TEAM, {"status": 2})
        url = sim.v2(f"/datasets/{DS}/workforce-tasks/{TEAM}/acceptance/status")
        r = sim.put(url, {"action": 3}, query={"locale": "zh-cn"})
        self.assertEqual(r.json(), {"sample_count": 1, "samples": [SEED_SAMPLE]})
        self.assertEqual(sim.task_status(TEAM), 2)
        self.assertEqual(sim.put(url, {"action": 2}, query={"locale": "en-us"}).status, 200)
        doc = sim.task(TEAM)
        self.assertEqual(doc["status"], 1)
        self.assertNotIn("checking_task_desc", doc)

    def test_not_found_switch_create_and_delete(self):
        sim = harness.Sim.start(self, scenario="builtin:seeds", args=["--not-found", "404"])
        self.assertEqual(sim.get(sim.v2(f"/datasets/{DS}/tasks/nope")).status, 404)
        sim.settings(not_found_status=400)
        self.assertEqual(sim.get(sim.v2(f"/datasets/{DS}/tasks/nope")).status, 400)
        new_id = sim.create_task(DS, "auto", {"task_name": "discovered", "timeline": [
            {"at": "0s", "status": -1}, {"at": "1s", "status": 1}]})
        listed = [t["task_id"] for t in sim.get(sim.v2(f"/datasets/{DS}/tasks")).json()["tasks"]]
        self.assertIn(new_id, listed)
        harness.poll_until(lambda: sim.get(sim.v2(f"/datasets/{DS}/tasks/{new_id}")).json()["status"] == 1,
                           10, what="the new task's timeline")
        sim.delete_task(new_id)
        r = sim.get(sim.v2(f"/datasets/{DS}/tasks/{new_id}"))
        self.assertEqual((r.status, r.json()["error_code"]), (400, "ModelArts.4612"))

    def test_pagination_modes(self):
        sim = harness.Sim.start(self, scenario="builtin:demo")
        path = sim.v2("/datasets/dsFlw8Kq2ZxP0aLm3Rt/auto-annotations/samples")

        def ids(**q):
            body = sim.get(path, query=q).json()
            self.assertEqual(body["sample_count"], 240)
            return [s["sample_id"] for s in body["samples"]]

        pages = [ids(limit=100, offset=o) for o in range(4)]
        self.assertEqual([len(p) for p in pages], [100, 100, 40, 0])
        self.assertEqual(len(set(sum(pages, []))), 240)
        sim.settings(pagination="record")
        self.assertEqual(ids(limit=100, offset=1)[0], pages[0][1])
        self.assertEqual(len(ids(limit=100, offset=200)), 40)
        r = sim.get(path, query={"limit": 101})
        self.assertEqual((r.status, r.json()["error_code"]), (400, "ModelArts.0101"))

    def test_demo_is_alive(self):
        sim = harness.Sim.start(self, scenario="builtin:demo", args=["--speed", "20"])
        view = sim.view()
        self.assertEqual(len(view["datasets"]), 3)
        # At 20x, the first auto task reaches "succeeded" (100 s of scenario) in ~5 s.
        harness.poll_until(lambda: sim.task_status("Xk7PqA2mVt9RbC4nLs1") == 3, 15,
                           what="the demo auto task to succeed")
        failed = sim.task("Pl5RvN8xKc2TqM7bZa3")
        self.assertEqual(failed["status"], 2)
        self.assertTrue(failed["error_msg"])
        team = sim.task("Wf3nLr8QzTa6YcE1pK0")
        self.assertEqual(team["status"], 2)
        self.assertIn("checking_stats", team["checking_task_desc"])

    def test_lockout_after_repeated_failures(self):
        sim = harness.Sim.start(self, scenario="builtin:seeds", args=["--lockout-duration", "2s"])
        bad = sim.new_client(sk="wrong")
        for _ in range(6):
            self.assertEqual(bad.request("GET", sim.v2("/datasets")).status, 401)
        r = sim.get(sim.v2("/datasets"))
        self.assertEqual(r.status, 401)
        self.assertIn("AK access failed to reach the limit,forbidden.", r.json()["error_msg"])
        harness.poll_until(lambda: sim.get(sim.v2("/datasets")).status == 200, 10,
                           what="the lockout to expire")
        outcomes = [e["auth"] for e in sim.journal()]
        self.assertEqual(outcomes.count("signature_mismatch"), 6)
        self.assertIn("locked", outcomes)

    def test_plain_http_and_no_auth(self):
        sim = harness.Sim.start(self, scenario="builtin:seeds", auth="none", tls=False)
        self.assertTrue(sim.base_url.startswith("http://"))
        self.assertIsNone(sim.ca_file)
        r = sim.get(sim.v2(f"/datasets/{DS}/tasks/{AUTO}"), sign=False)
        self.assertEqual(r.json(), SEED_AUTO)
        self.assertEqual(sim.journal()[0]["auth"], "disabled")


class Tokens(unittest.TestCase):
    def test_issue_use_and_expire(self):
        sim = harness.Sim.start(self, scenario="builtin:seeds", auth="token",
                                args=["--token-lifetime", "3s"])
        token, r = sim.issue_token()
        self.assertEqual(r.status, 201, r.body)
        self.assertTrue(token and token.startswith("MIIE"))
        expires = r.json()["token"]["expires_at"]
        self.assertRegex(expires, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        client = sim.new_client(token=token)
        self.assertEqual(client.request("GET", sim.v2(f"/datasets/{DS}/tasks/{AUTO}")).json(), SEED_AUTO)
        _, wrong = sim.issue_token(password="wrong")
        self.assertEqual(wrong.status, 401)
        self.assertEqual(wrong.json()["error"]["message"], "The username or password is wrong.")
        self.assertEqual(sim.get(sim.v2("/datasets"), sign=False).status, 401)
        expired = harness.poll_until(
            lambda: (lambda r: r if r.status == 401 else None)(client.request("GET", sim.v2("/datasets"))),
            10, what="the token to expire")
        self.assertIn("token expires", expired.json()["error_msg"])
        journal = json.dumps(sim.journal())
        self.assertNotIn(token, journal)
        self.assertNotIn(sim.password, journal)
        self.assertIn("token_expired", journal)
        # A new token works again; the control API can expire every token at once.
        token2, _ = sim.issue_token()
        client2 = sim.new_client(token=token2)
        self.assertEqual(client2.request("GET", sim.v2("/datasets")).status, 200)
        sim.control("POST", "/tokens/expire")
        self.assertEqual(client2.request("GET", sim.v2("/datasets")).status, 401)


class CommandLine(unittest.TestCase):
    def run_sim(self, *args, env=None, timeout=20):
        full_env = dict(os.environ)
        full_env.pop("HUAWEICLOUD_SDK_AK", None)
        full_env.pop("HUAWEICLOUD_SDK_SK", None)
        full_env.update(env or {})
        return subprocess.run([harness.bin_path("labelwatch-sim"), *args], capture_output=True,
                              text=True, env=full_env, timeout=timeout)

    def test_help_lists_every_option(self):
        out = self.run_sim("--help").stdout
        for option in ("--listen", "--ready-file", "--tls", "--tls-dir", "--tls-name", "--tls-cert",
                       "--tls-key", "--scenario", "--dump-scenario", "--project-id", "--speed",
                       "--pagination", "--not-found", "--auth", "--access-key-file",
                       "--secret-key-file", "--iam-user", "--iam-domain", "--iam-password-file",
                       "--token-lifetime", "--max-skew", "--lockout-threshold", "--lockout-duration",
                       "--journal-capacity", "--max-connections", "--read-timeout", "--log-level",
                       "--version"):
            self.assertIn(option, out)

    def test_scenario_errors_name_the_json_path(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"datasets": [{"dataset_id": "d", "auto_tasks": [
                {"task_id": "t", "timeline": [{"at": "ten seconds"}]}]}]}, f)
        self.addCleanup(os.unlink, f.name)
        r = self.run_sim("--scenario", f.name, "--auth", "none")
        self.assertEqual(r.returncode, 2)
        self.assertIn(f.name, r.stderr)
        self.assertIn("datasets[0].auto_tasks[0].timeline[0].at", r.stderr)
        r = self.run_sim("--scenario", "builtin:nope", "--auth", "none")
        self.assertEqual(r.returncode, 2)
        self.assertIn("builtin:demo", r.stderr)

    def test_credentials_are_required_and_never_printed(self):
        r = self.run_sim("--scenario", "builtin:seeds", "--auth", "aksk")
        self.assertEqual(r.returncode, 2)
        self.assertIn("HUAWEICLOUD_SDK_AK", r.stderr)
        r = self.run_sim("--auth", "token", "--scenario", "builtin:seeds")
        self.assertEqual(r.returncode, 2)

    def test_dump_scenario_round_trips(self):
        r = self.run_sim("--scenario", "builtin:demo", "--dump-scenario", "--auth", "none",
                         "--project-id", "p42")
        self.assertEqual(r.returncode, 0, r.stderr)
        dumped = json.loads(r.stdout)
        self.assertEqual(dumped["project_id"], "p42")
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(r.stdout)
        self.addCleanup(os.unlink, f.name)
        again = self.run_sim("--scenario", f.name, "--dump-scenario", "--auth", "none")
        self.assertEqual(json.loads(again.stdout)["datasets"], dumped["datasets"])

    def test_stdout_line_files_tls_and_sigterm(self):
        first = harness.Sim.start(self, scenario="builtin:seeds")
        self.assertIn(f"labelwatch-sim listening on {first.base_url}", first.process.stdout())
        tls_dir = os.path.dirname(first.ca_file)
        # A second simulator serving the first one's certificate files.
        second = harness.Sim.start(self, scenario="builtin:seeds", tls=False, args=[
            "--tls-cert", os.path.join(tls_dir, "server.pem"), "--tls-key", os.path.join(tls_dir, "server.key")])
        self.assertTrue(second.base_url.startswith("https://"))
        c = harness.Client(second.base_url, first.ca_file, ak=second.ak, sk=second.sk)
        self.assertEqual(c.request("GET", second.v2("/datasets")).status, 200)
        c.close()
        self.assertEqual(second.stop(), 0, "SIGTERM is a clean exit")
        self.assertIn("stopped", second.process.stderr())

    def test_bad_listen_address_and_port_in_use(self):
        r = self.run_sim("--listen", "nowhere", "--auth", "none")
        self.assertEqual(r.returncode, 2)
        self.assertIn("nowhere", r.stderr)
        sim = harness.Sim.start(self, scenario="builtin:seeds", auth="none")
        r = self.run_sim("--listen", f"127.0.0.1:{sim.port}", "--auth", "none")
        self.assertEqual(r.returncode, 2)
        self.assertIn(str(sim.port), r.stderr)


if __name__ == "__main__":
    unittest.main()
