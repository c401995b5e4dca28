#!/usr/bin/env python3
"""A real Prometheus server for integration tests (Debian package `prometheus`).

    import prom
    p = prom.Prometheus.start(self, targets=["127.0.0.1:9464"], job="labelwatch",
                              rule_files=[prom.ALERT_RULES])
    p.wait_target_up("labelwatch")
    v = p.poll_value('modelarts_auto_task_progress_ratio{task_id="X"}', lambda v: v > 0.5)
    p.query('up{job="labelwatch"}')            # -> list of {"metric": {...}, "value": [t, "1"]}

The server listens on a loopback port the OS chose, keeps its TSDB in a temporary
directory, scrapes every `scrape_interval` and evaluates rules every
`evaluation_interval`. The configuration is written as JSON (valid YAML), so no YAML
library is needed. Everything waits by polling against a deadline, never by sleeping a
fixed time. Standard library only.
"""

import json
import os
import shutil
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import harness

__all__ = ["Prometheus", "ALERT_RULES", "PrometheusError", "find_promtool"]

_SOURCE = os.environ.get("LABELWATCH_SOURCE_DIR",
                         os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ALERT_RULES = os.path.join(_SOURCE, "etc", "prometheus", "labelwatch-alerts.yml")


class PrometheusError(RuntimeError):
    pass


def _require(tool):
    path = shutil.which(tool)
    if not path:
        raise FileNotFoundError(
            f"{tool} not found on PATH: install the Debian package `prometheus` "
            "(scripts/setup-deps.sh does)")
    return path


def find_promtool():
    return _require("promtool")


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    """A running prometheus process. Use start(); stop() is registered as cleanup."""

    def __init__(self, process, url, workdir):
        self.process = process
        self.url = url
        self.workdir = workdir

    @classmethod
    def start(cls, testcase, targets, job="labelwatch", scrape_interval="1s",
              evaluation_interval="1s", rule_files=(), scheme="http", basic_auth=None,
              ca_file=None, extra_scrape_configs=(), timeout=60.0):
        """Starts prometheus scraping `targets` ("host:port") as `job`.

        basic_auth: (user, password_file); ca_file: for scheme="https".
        """
        binary = _require("prometheus")
        workdir = tempfile.mkdtemp(prefix="lw-prom-")
        testcase.addCleanup(shutil.rmtree, workdir, True)
        job_cfg = {
            "job_name": job,
            "scrape_interval": scrape_interval,
            "scrape_timeout": scrape_interval,
            "scheme": scheme,
            "static_configs": [{"targets": list(targets)}],
        }
        if basic_auth:
            job_cfg["basic_auth"] = {"username": basic_auth[0], "password_file": basic_auth[1]}
        if ca_file:
            job_cfg["tls_config"] = {"ca_file": ca_file}
        config = {
            "global": {"scrape_interval": scrape_interval,
                       "evaluation_interval": evaluation_interval},
            "rule_files": [os.path.abspath(f) for f in rule_files],
            "scrape_configs": [job_cfg, *extra_scrape_configs],
        }
        config_path = os.path.join(workdir, "prometheus.yml")
        with open(config_path, "w") as f:
            json.dump(config, f, indent=2)

        last_error = None
        for attempt in range(3):  # a port picked by _free_port can be taken meanwhile
            port = _free_port()
            data = os.path.join(workdir, f"data{attempt}")
            proc = harness.Process(
                [binary, f"--config.file={config_path}", f"--storage.tsdb.path={data}",
                 f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
                 "--storage.tsdb.retention.time=1d", "--web.enable-lifecycle"],
                workdir, f"prometheus{attempt}", testcase=testcase)
            p = cls(proc, f"http://127.0.0.1:{port}", workdir)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if not proc.alive():
                    last_error = (f"exited with {proc.proc.returncode}: {proc.log_tail()}")
                    break
                if p._ready():
                    return p
                time.sleep(0.05)
            else:
                proc.stop()
                raise AssertionError(f"prometheus not ready after {timeout}s: {proc.log_tail()}")
        raise AssertionError(f"prometheus did not start: {last_error}")

    def _ready(self):
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, OSError):
            return False

    def stop(self):
        return self.process.stop()

    # ---- HTTP API -----------------------------------------------------------------

    def api(self, path, **params):
        """GET /api/v1/<path>; returns `data`, raises PrometheusError on an API error."""
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                doc = json.load(r)
        except urllib.error.HTTPError as e:
            body = e.read().decode(errors="replace")
            raise PrometheusError(f"{path} {params}: HTTP {e.code}: {body}") from None
        if doc.get("status") != "success":
            raise PrometheusError(f"{path} {params}: {doc}")
        return doc["data"]

    def query(self, expr, at=None):
        """Instant query; returns the result list of a vector (or [scalar] for scalars)."""
        params = {"query": expr}
        if at is not None:
            params["time"] = at
        data = self.api("query", **params)
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        return data["result"]

    def query_value(self, expr):
        """The value of a query with exactly one series, or None when it has none."""
        result = self.query(expr)
        if not result:
            return None
        if len(result) > 1:
            raise PrometheusError(f"{expr}: {len(result)} series, expected one: {result}")
        return float(result[0]["value"][1])

    def poll_value(self, expr, predicate=lambda v: v is not None, timeout=30.0):
        """Polls query_value(expr) until predicate(value) holds; returns the value."""
        box = {}

        def check():
            v = self.query_value(expr)
            box["v"] = v
            return v is not None and predicate(v)

        harness.poll_until(check, timeout, what=f"{expr} (last value {box.get('v')!r})")
        return box["v"]

    def targets(self):
        return self.api("targets")["activeTargets"]

    def wait_target_up(self, job, timeout=30.0):
        """Waits until every target of `job` has been scraped successfully; returns them."""
        def up():
            ts = [t for t in self.targets() if t["labels"].get("job") == job]
            return ts if ts and all(t["health"] == "up" for t in ts) else None

        try:
            return harness.poll_until(up, timeout, what=f"targets of job {job} up")
        except AssertionError:
            detail = [(t["scrapeUrl"], t["health"], t.get("lastError"))
                      for t in self.targets()]
            raise AssertionError(f"job {job} not up after {timeout}s: {detail}") from None

    def rules(self):
        return self.api("rules")["groups"]

    def alerts(self):
        return self.api("alerts")["alerts"]
