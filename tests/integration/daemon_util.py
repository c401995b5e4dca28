#!/usr/bin/env python3
"""labelwatchd with extra [server] / [events] keys, and plain requests to its endpoints
(HTTP or HTTPS with a CA file, optional basic auth). Standard library only.

    d = daemon_util.start(self, sim, watches, server={"basic_auth_user": "prom", ...},
                          events={"webhook_url": "https://..."})
    r = daemon_util.request(d, "GET", "/metrics", ca_file=sim.ca_file, auth=("prom", pw))
    r.status, r.headers["content-length"], r.body

harness.Daemon writes the [server] and [events] tables itself (listen, log); this adds
keys to those tables instead of appending a second table, which TOML forbids.
"""

import base64
import http.client
import json
import os
import ssl
import tempfile
import urllib.parse

import harness

__all__ = ["prepare", "start", "request", "Reply", "write_secret"]


def _toml_value(v):
    return json.dumps(v)


def start(testcase, sim, watches, poll=None, server=None, events=None, extra="", env=None,
          timeout=30.0, expect_clean_exit=True):
    """A running harness.Daemon whose [server] and [events] tables carry `server` and
    `events` (dicts of TOML keys) in addition to what the harness writes."""
    d = prepare(testcase, sim, watches, poll, server, events, extra, env, expect_clean_exit)
    d.launch(timeout)
    return d


def prepare(testcase, sim, watches, poll=None, server=None, events=None, extra="", env=None,
            expect_clean_exit=True):
    """The same as start() without launching: config file and environment are ready
    (d.config_path, d.env)."""
    workdir = tempfile.mkdtemp(prefix="lw-daemon-")
    testcase.addCleanup(harness._rmtree, workdir)  # noqa: SLF001
    d = harness.Daemon(testcase, workdir, expect_clean_exit)
    text = harness.daemon_config(sim, watches, poll=poll, events_log=d.events_path,
                                 state_path=d.state_path, extra=extra)
    for table, keys in (("[server]\n", server), ("[events]\n", events)):
        if keys:
            lines = "".join(f"{k} = {_toml_value(v)}\n" for k, v in keys.items())
            assert table in text, table
            text = text.replace(table, table + lines, 1)
    with open(d.config_path, "w") as f:
        f.write(text)
    d.env = {"HUAWEICLOUD_SDK_AK": sim.ak, "HUAWEICLOUD_SDK_SK": sim.sk,
             "HUAWEICLOUD_SDK_PASSWORD": sim.password}
    d.env.update(env or {})
    d.args = []
    return d


def write_secret(testcase, name, value):
    """A file holding `value` (mode 0600) in a temporary directory; returns its path."""
    d = tempfile.mkdtemp(prefix="lw-secret-")
    testcase.addCleanup(harness._rmtree, d)  # noqa: SLF001
    path = os.path.join(d, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return path


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body

    def __repr__(self):
        return f"Reply({self.status}, {self.body[:200]!r})"


def connection(base_url, ca_file=None, timeout=10.0):
    u = urllib.parse.urlsplit(base_url)
    if u.scheme == "https":
        ctx = ssl.create_default_context(cafile=ca_file)
        return http.client.HTTPSConnection(u.hostname, u.port, timeout=timeout, context=ctx)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)


def request(d_or_url, method, path, headers=None, ca_file=None, auth=None, timeout=10.0):
    """One request on a fresh connection; returns a Reply. `auth`: (user, password)."""
    base = d_or_url if isinstance(d_or_url, str) else d_or_url.base_url
    hdrs = dict(headers or {})
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        hdrs["Authorization"] = f"Basic {token}"
    conn = connection(base, ca_file, timeout)
    try:
        conn.request(method, path, headers=hdrs)
        r = conn.getresponse()
        body = r.read()
        return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, body)
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------
# A scenario for the operator-facing checks (metrics, status page, endpoints): one auto
# task that runs and succeeds, one that fails, one whose name is markup and which stays
# running at 40 %, and a team task in acceptance.

OBS_DS = "dsObserve000000001"
OBS_AUTO = "autoObs00000000001"
OBS_FAIL = "autoFail0000000001"
OBS_XSS = "autoXss00000000001"
OBS_TEAM = "teamObs00000000001"
XSS_NAME = "<script>alert(1)</script>"


def observe_scenario(run_seconds=16):
    return {
        "project_id": "0123456789abcdef0123456789abcdef",
        "datasets": [{
            "dataset_id": OBS_DS, "dataset_name": "observe",
            "auto_tasks": [
                {"task_id": OBS_AUTO, "task_name": "flowers",
                 "document": {"result": {"total_sample_count": 200, "annotated_sample_count": 0,
                                         "unconfirmed_sample_count": 0}},
                 "timeline": [
                     {"at": "0s", "status": -1, "progress": 0.0},
                     {"at": "2s", "status": 1},
                     {"at": f"{run_seconds}s", "ramp": True, "progress": 100.0,
                      "result": {"annotated_sample_count": 200}},
                     {"at": f"{run_seconds + 1}s", "status": 3}]},
                {"task_id": OBS_FAIL, "task_name": "bad-run",
                 "timeline": [
                     {"at": "0s", "status": -1, "progress": 0.0},
                     {"at": "1s", "status": 1},
                     {"at": "3s", "status": 2, "error_code": "ModelArts.4654",
                      "error_msg": "Inference execution error."}]},
                {"task_id": OBS_XSS, "task_name": XSS_NAME,
                 "timeline": [{"at": "0s", "status": 1, "progress": 40.0}]}],
            "workforce_tasks": [
                {"task_id": OBS_TEAM, "task_name": "team-labeling",
                 "document": {"pass_rate": 0.9, "sample_stats": {
                     "total_sample_count": 100, "unannotated_sample_count": 0,
                     "unreviewed_sample_count": 0, "uncheck_sample_count": 0,
                     "sampled_sample_count": 10, "rejected_sample_count": 0,
                     "accepted_sample_count": 90, "auto_annotation_sample_count": 0,
                     "deleted_sample_count": 0}},
                 "timeline": [{"at": "0s", "status": 2, "checking_task_desc": {
                     "checking_task_id": "chk0000000000000001", "action": 0,
                     "checking_stats": {"sampling_num": 10, "sampled_sample_count": 10,
                                        "checked_sample_count": 8, "accepted_sample_count": 7,
                                        "rejected_sample_count": 1, "unchecked_sample_count": 2,
                                        "pass_rate": 0.875}}}]}],
        }],
    }


OBS_WATCH = [dict(dataset_id=OBS_DS, discover=True, discover_interval="2s")]


def start_observe_sim(testcase, run_seconds=16):
    d = tempfile.mkdtemp(prefix="lw-scn-")
    testcase.addCleanup(harness._rmtree, d)  # noqa: SLF001
    path = os.path.join(d, "scenario.json")
    with open(path, "w") as f:
        json.dump(observe_scenario(run_seconds), f)
    return harness.Sim.start(testcase, scenario=path)
