#!/usr/bin/env python3
"""A real Prometheus scrapes labelwatchd watching labelwatch-sim (issue 5, "Tests"): the
test queries Prometheus's HTTP API and asserts values (progress ratio, the current status
series = 1 and the others 0, transition counters that increased, team task figures), and
`promtool check metrics` finds nothing to say about the daemon's /metrics. A second
Prometheus scrapes the daemon the production way: HTTPS and basic auth."""

import secrets
import subprocess
import time
import unittest

import daemon_util
import harness
import prom
from daemon_util import OBS_AUTO, OBS_DS, OBS_FAIL, OBS_TEAM, OBS_WATCH, OBS_XSS

AUTO = f'dataset_id="{OBS_DS}",task_id="{OBS_AUTO}"'
FAIL = f'dataset_id="{OBS_DS}",task_id="{OBS_FAIL}"'
TEAM = f'dataset_id="{OBS_DS}",task_id="{OBS_TEAM}"'
AUTO_STATUSES = {"queuing", "initialized", "running", "failed", "succeeded", "stopping", "stopped",
                 "unknown"}


def target(d):
    return d.base_url.split("://", 1)[1]


class DaemonPrometheus(unittest.TestCase):
    def test_prometheus_sees_correct_values(self):
        sim = daemon_util.start_observe_sim(self, run_seconds=20)
        d = daemon_util.start(self, sim, OBS_WATCH)
        p = prom.Prometheus.start(self, targets=[target(d)], job="labelwatch")
        p.wait_target_up("labelwatch")
        self.assertEqual(p.query_value('up{job="labelwatch"}'), 1.0)

        # Running: its status series is 1, every other status series of the task 0.
        p.poll_value(f'modelarts_auto_task_status{{{AUTO},status="running"}}', lambda v: v == 1.0)
        series = p.query(f'modelarts_auto_task_status{{{AUTO}}}')
        values = {s["metric"]["status"]: float(s["value"][1]) for s in series}
        self.assertEqual(set(values), AUTO_STATUSES)
        self.assertEqual({k for k, v in values.items() if v == 1.0}, {"running"})
        self.assertEqual(sum(values.values()), 1.0)
        succeeded = 'modelarts_task_transitions_total{kind="auto",from="running",to="succeeded"}'
        running_at = time.time()
        self.assertIn(p.query_value(succeeded), (None, 0.0))

        # The progress ratio is a 0..1 ratio that moves while the task runs.
        first = p.poll_value(f'modelarts_auto_task_progress_ratio{{{AUTO}}}', lambda v: 0.0 < v < 1.0)
        p.poll_value(f'modelarts_auto_task_progress_ratio{{{AUTO}}}', lambda v: first < v <= 1.0)
        self.assertEqual(p.query_value(f'modelarts_auto_task_progress_ratio{{task_id="{OBS_XSS}"}}'), 0.4)

        # It finishes: the state set moves and the transition counter goes up.
        p.poll_value(f'modelarts_auto_task_status{{{AUTO},status="succeeded"}}', lambda v: v == 1.0,
                     timeout=60)
        self.assertEqual(p.query_value(f'modelarts_auto_task_status{{{AUTO},status="running"}}'), 0.0)
        self.assertEqual(p.query_value(f'sum(modelarts_auto_task_status{{{AUTO}}})'), 1.0)
        self.assertEqual(p.poll_value(f'modelarts_auto_task_progress_ratio{{{AUTO}}}',
                                      lambda v: v == 1.0), 1.0)
        self.assertEqual(p.poll_value(
            'modelarts_task_transitions_total{kind="auto",from="running",to="succeeded"}',
            lambda v: v == 1.0), 1.0)
        # Prometheus's own history agrees: nothing then, one now.
        self.assertEqual(p.query(succeeded, at=running_at), [])
        self.assertGreaterEqual(p.query_value(
            'modelarts_task_transitions_total{kind="auto",from="queuing",to="running"}'), 2.0)
        self.assertEqual(p.query_value(
            'modelarts_task_transitions_total{kind="auto",from="running",to="failed"}'), 1.0)
        self.assertEqual(p.query_value(f'modelarts_auto_task_status{{{FAIL},status="failed"}}'), 1.0)
        self.assertEqual(p.query_value(f'modelarts_auto_task_samples{{{AUTO},state="annotated"}}'), 200)
        age = p.query_value(f'time() - modelarts_auto_task_status_since_timestamp_seconds{{{AUTO}}}')
        self.assertTrue(-5 < age < 60, age)

        # The team task and the daemon's own series.
        self.assertEqual(p.query_value(f'modelarts_workforce_task_status{{{TEAM},status="accepting"}}'), 1)
        self.assertEqual(p.query_value(f'sum(modelarts_workforce_task_status{{{TEAM}}})'), 1)
        self.assertEqual(p.query_value(f'modelarts_workforce_task_samples{{{TEAM},state="total"}}'), 100)
        self.assertEqual(p.query_value(f'modelarts_workforce_acceptance_samples{{{TEAM},state="checked"}}'), 8)
        self.assertAlmostEqual(p.query_value(f'modelarts_workforce_task_pass_ratio{{{TEAM}}}'), 0.9)
        self.assertEqual(p.query_value(f'modelarts_workforce_acceptance_samples{{{TEAM},state="rejected"}}'), 1)
        self.assertEqual(p.query_value('labelwatch_tracked_tasks{kind="auto"}'), 3)
        self.assertEqual(p.query_value('labelwatch_tracked_tasks{kind="workforce"}'), 1)
        self.assertEqual(p.query_value('count(labelwatch_build_info)'), 1)
        age = p.query_value(
            f'time() - labelwatch_task_last_success_timestamp_seconds{{{TEAM},kind="workforce"}}')
        self.assertLess(abs(age), 30)
        self.assertGreater(p.query_value('sum(labelwatch_api_requests_total{code="200"})'), 5)
        self.assertEqual(p.query_value('labelwatch_config_last_reload_successful'), 1)
        # Counters an alert takes increase() of exist from the start, at 0.
        self.assertEqual(p.query_value('labelwatch_events_dropped_total{sink="file"}'), 0)

        # Nothing to say about the exposition format.
        text = d.metrics()
        check = subprocess.run([prom.find_promtool(), "check", "metrics"], input=text,
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertEqual((check.stdout + check.stderr).strip(), "")
        self.assertEqual(d.stop(), 0)

    def test_https_and_basic_auth_scrape(self):
        sim = daemon_util.start_observe_sim(self)
        password = "scrape-" + secrets.token_urlsafe(12)
        pw_file = daemon_util.write_secret(self, "scrape-password", password)
        # The simulator's throw-away PKI: its server certificate names 127.0.0.1.
        tls = sim.workdir + "/tls"
        d = daemon_util.start(self, sim, OBS_WATCH, server={
            "tls_cert_file": tls + "/server.pem", "tls_key_file": tls + "/server.key",
            "basic_auth_user": "prometheus", "basic_auth_password_file": pw_file})
        p = prom.Prometheus.start(self, targets=[target(d)], job="labelwatch", scheme="https",
                                  basic_auth=("prometheus", pw_file), ca_file=sim.ca_file)
        p.wait_target_up("labelwatch")
        p.poll_value(f'modelarts_auto_task_status{{{AUTO},status="running"}}', lambda v: v == 1.0)
        self.assertEqual(p.query_value(f'modelarts_auto_task_progress_ratio{{task_id="{OBS_XSS}"}}'), 0.4)

        # A scraper with the wrong password is rejected and says so.
        bad_pw = daemon_util.write_secret(self, "wrong", "not-the-password")
        q = prom.Prometheus.start(self, targets=[target(d)], job="intruder", scheme="https",
                                  basic_auth=("prometheus", bad_pw), ca_file=sim.ca_file)

        def rejected():
            ts = [t for t in q.targets() if t["labels"].get("job") == "intruder"]
            return ts and ts[0]["health"] == "down" and ts[0]
        t = harness.poll_until(rejected, 30, what="intruder target down")
        self.assertIn("401", t["lastError"])
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
