#!/usr/bin/env python3
"""A real Prometheus scrapes the observe layer (observe_fixture_server's scripted
scenario) and sees correct values: progress ratio, the current status series = 1, a
transition counter that increased; it loads the shipped alert rules (and the failed-task
alert fires), and every dashboard query evaluates.

The same helpers (prom.py) serve the daemon-against-simulator test once the daemon is
wired."""

import json
import os
import re
import unittest

import harness
import observe_fixture
import prom

SOURCE = os.environ.get("LABELWATCH_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TASK = 'dataset_id="WxCREuCkBSAlQr9xrde",task_id="XGrRZuCV1qmMxnsmD5u"'


class observe_prometheus(unittest.TestCase):
    def test_prometheus_scrapes_correct_values(self):
        # 18 steps of 5 points from 10% to 100%: about 11 s of "running" at 600 ms.
        fx = observe_fixture.Fixture(self, tick_ms=600)
        p = prom.Prometheus.start(self, targets=[fx.hostport], job="labelwatch",
                                  rule_files=[prom.ALERT_RULES])
        p.wait_target_up("labelwatch")

        # Running: its status series is 1, every other status series of the task 0.
        self.assertEqual(p.poll_value(f'modelarts_auto_task_status{{{TASK},status="running"}}'), 1.0)
        self.assertEqual(p.query_value(f'sum(modelarts_auto_task_status{{{TASK}}})'), 1.0)
        self.assertEqual(p.query_value(f'count(modelarts_auto_task_status{{{TASK}}})'), 8.0)
        self.assertIsNone(p.query_value(
            f'modelarts_task_transitions_total{{kind="auto",from="running",to="succeeded"}}'))
        ratio = p.poll_value(f'modelarts_auto_task_progress_ratio{{{TASK}}}', lambda v: 0.1 < v < 1.0)
        self.assertTrue(0.0 < ratio < 1.0)

        # It finishes: the state set moves and the transition counter goes up.
        p.poll_value(f'modelarts_auto_task_status{{{TASK},status="succeeded"}}', lambda v: v == 1.0,
                     timeout=60)
        self.assertEqual(p.query_value(f'modelarts_auto_task_status{{{TASK},status="running"}}'), 0.0)
        self.assertEqual(p.poll_value(f'modelarts_auto_task_progress_ratio{{{TASK}}}',
                                      lambda v: v == 1.0), 1.0)
        self.assertEqual(p.poll_value(
            'modelarts_task_transitions_total{kind="auto",from="running",to="succeeded"}'), 1.0)
        self.assertGreater(p.query_value(
            f'time() - modelarts_auto_task_status_since_timestamp_seconds{{{TASK}}}'), -5)

        # Team task figures and the timestamp convention.
        wf = 'dataset_id="WxCREuCkBSAlQr9xrde",task_id="iYZx7gScPUozOXner9k"'
        self.assertEqual(p.query_value(f'modelarts_workforce_task_samples{{{wf},state="total"}}'), 317)
        self.assertEqual(p.query_value(f'modelarts_workforce_acceptance_samples{{{wf},state="checked"}}'), 50)
        self.assertEqual(p.query_value(f'modelarts_workforce_task_status{{{wf},status="accepting"}}'), 1)
        age = p.query_value(f'time() - labelwatch_task_last_success_timestamp_seconds{{{wf},kind="workforce"}}')
        self.assertLess(abs(age), 30)

        # The shipped rules load and evaluate; the failed task (no `for`) fires.
        groups = p.rules()
        self.assertEqual({g["name"] for g in groups}, {"labelwatch-tasks", "labelwatch-self"})
        for g in groups:
            for r in g["rules"]:
                self.assertEqual(r["health"], "ok", f'{r["name"]}: {r.get("lastError")}')

        def failed_alert():
            return [a for a in p.alerts()
                    if a["labels"]["alertname"] == "ModelArtsAutoTaskFailed" and a["state"] == "firing"]
        alerts = harness.poll_until(failed_alert, 30, what="ModelArtsAutoTaskFailed firing")
        self.assertEqual(alerts[0]["labels"]["task_id"], "failedTask0001")
        self.assertEqual(alerts[0]["labels"]["task_name"], "<script>alert(1)</script>")

        # Every dashboard query is valid PromQL over these metrics.
        with open(os.path.join(SOURCE, "etc", "grafana", "labelwatch.json")) as f:
            dash = json.load(f)
        exprs = []

        def walk(panels):
            for panel in panels:
                exprs.extend(t["expr"] for t in panel.get("targets", []) if t.get("expr"))
                walk(panel.get("panels", []))
        walk(dash["panels"])
        for v in dash["templating"]["list"]:
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = re.match(r"label_values\((.*), *\w+\)$", q or "")
            if m:
                exprs.append(m.group(1))
        self.assertGreater(len(exprs), 20)
        for e in exprs:
            expr = (e.replace("$__rate_interval", "1m").replace("$job", ".*")
                    .replace("$dataset_id", ".*").replace("$task_id", ".*"))
            with self.subTest(expr=expr):
                p.query(expr)  # raises PrometheusError on a bad query


if __name__ == "__main__":
    unittest.main()
