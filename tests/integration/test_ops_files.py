#!/usr/bin/env python3
"""The shipped operations files: Prometheus alert rules (checked and unit-tested with
promtool), the scrape snippet, the Grafana dashboard, and the /metrics exposition
(`promtool check metrics`). Metric names are checked against the registry in code
(observe_fixture_server --print-family-names), never against a hand-kept list."""

import json
import os
import re
import subprocess
import unittest

import observe_fixture
import prom

SOURCE = os.environ.get("LABELWATCH_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PROM_DIR = os.path.join(SOURCE, "etc", "prometheus")
RULES = os.path.join(PROM_DIR, "labelwatch-alerts.yml")
RULE_TESTS = os.path.join(PROM_DIR, "labelwatch-alerts.test.yml")
SCRAPE = os.path.join(PROM_DIR, "scrape.yml")
DASHBOARD = os.path.join(SOURCE, "etc", "grafana", "labelwatch.json")

# Our metric names: everything labelwatch exports starts with one of these.
METRIC_RE = re.compile(r"\b((?:modelarts|labelwatch)_[A-Za-z0-9_]+)")


def promtool(*args):
    return subprocess.run([prom.find_promtool(), *args], capture_output=True, text=True,
                          timeout=120, cwd=PROM_DIR)


def exposition_types(text):
    """{family: type} from the # TYPE lines of an exposition."""
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
    return types


def series_names(types):
    """Every sample name the families produce (histograms: _bucket, _sum, _count)."""
    names = set()
    for name, kind in types.items():
        names.add(name)
        if kind in ("histogram", "summary"):
            names.update({name + "_sum", name + "_count"})
        if kind == "histogram":
            names.add(name + "_bucket")
    return names


def alert_blocks(text):
    """{alertname: rule text} from the rules file."""
    parts = re.split(r"\n\s*- alert: ", text)
    return {p.split("\n", 1)[0].strip(): p for p in parts[1:]}


def dashboard_queries(dash):
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append((p.get("title", "?"), t["expr"]))
            walk(p.get("panels", []))

    walk(dash["panels"])
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if v.get("type") == "query" and q:
            out.append((f"variable {v['name']}", q))
    return out


class ops_files(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.families = observe_fixture.family_names()
        cls.exposition = observe_fixture.realistic_metrics()
        cls.types = exposition_types(cls.exposition)
        cls.known = series_names(cls.types)

    def test_rendered_metrics_cover_every_registered_family(self):
        self.assertGreaterEqual(len(self.families), 29)
        self.assertEqual(sorted(self.types), sorted(self.families),
                         "the realistic exposition must populate every family")

    def test_promtool_check_metrics_is_clean(self):
        r = subprocess.run([prom.find_promtool(), "check", "metrics"], input=self.exposition,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual((r.stdout + r.stderr).strip(), "", "promtool found problems")

    def test_promtool_check_rules(self):
        r = promtool("check", "rules", RULES)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout)

    def test_promtool_test_rules(self):
        r = promtool("test", "rules", RULE_TESTS)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout)

    def test_scrape_snippet_is_a_valid_config(self):
        r = promtool("check", "config", SCRAPE)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(SCRAPE) as f:
            self.assertIn("job_name: labelwatch", f.read())

    def test_required_alerts_exist_with_severity_and_annotations(self):
        with open(RULES) as f:
            blocks = alert_blocks(f.read())
        required = {
            "ModelArtsAutoTaskFailed", "ModelArtsTaskStalled", "ModelArtsTeamTaskIdle",
            "ModelArtsAcceptancePassRatioLow", "LabelwatchAPIErrors", "LabelwatchAPIThrottled",
            "LabelwatchAuthFailing", "LabelwatchDataStale", "LabelwatchDown", "LabelwatchAbsent",
            "ModelArtsLowConfidenceBatch",
        }
        self.assertTrue(required <= set(blocks), required - set(blocks))
        for name, text in blocks.items():
            with self.subTest(alert=name):
                self.assertRegex(text, r"\n\s+severity: (critical|warning|info)\n")
                self.assertRegex(text, r"\n\s+summary: ")
                self.assertRegex(text, r"\n\s+description: ")

    def test_every_alert_has_a_firing_and_a_silent_test(self):
        with open(RULES) as f:
            alerts = set(alert_blocks(f.read()))
        with open(RULE_TESTS) as f:
            tests = f.read()
        fire, silent = set(), set()
        for m in re.finditer(r"alertname: (\w+)\n\s+exp_alerts:(.*)\n", tests):
            (silent if m.group(2).strip() == "[]" else fire).add(m.group(1))
        self.assertEqual(alerts - fire, set(), "alerts without a firing test")
        self.assertEqual(alerts - silent, set(), "alerts without a silent test")

    def test_alert_rules_use_only_real_metric_names(self):
        with open(RULES) as f:
            used = set(METRIC_RE.findall(f.read()))
        self.assertTrue(used, "no metric names found in the rules")
        self.assertEqual(used - self.known, set(), "unknown metric names in the alert rules")

    def test_dashboard_is_valid_and_uses_only_real_metric_names(self):
        with open(DASHBOARD) as f:
            dash = json.load(f)
        self.assertEqual(dash["uid"], "labelwatch")
        queries = dashboard_queries(dash)
        self.assertGreater(len(queries), 20)
        used = set()
        for title, expr in queries:
            names = METRIC_RE.findall(expr)
            self.assertTrue(names, f"{title}: no labelwatch metric in {expr}")
            used.update(names)
        self.assertEqual(used - self.known, set(), "unknown metric names in the dashboard")
        # What operators look at: progress, status, samples, acceptance, API, throttling.
        for needed in ["modelarts_auto_task_progress_ratio", "modelarts_auto_task_status",
                       "modelarts_workforce_task_status", "modelarts_workforce_task_samples",
                       "modelarts_workforce_acceptance_samples", "labelwatch_api_requests_total",
                       "labelwatch_api_request_duration_seconds_bucket",
                       "labelwatch_poll_errors_total"]:
            self.assertIn(needed, used)
        self.assertTrue(any('code="429"' in e for _, e in queries), "no throttling panel")
        # Templating by dataset and task, and every panel has a data source and a place.
        names = {v["name"] for v in dash["templating"]["list"]}
        self.assertTrue({"dataset_id", "task_id", "datasource"} <= names, names)
        ids = set()
        for p in dash["panels"]:
            self.assertIn("gridPos", p)
            self.assertNotIn(p["id"], ids)
            ids.add(p["id"])
            if p["type"] != "row":
                self.assertEqual(p["datasource"]["uid"], "${datasource}", p["title"])


if __name__ == "__main__":
    unittest.main()
