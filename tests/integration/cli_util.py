#!/usr/bin/env python3
"""Running the real `labelwatch` CLI against a running labelwatch-sim (client tests).

    r = cli_util.run(sim, "get", "auto-task", "--dataset", DS, "--task", T)
    r.returncode, r.stdout, r.stderr, r.elapsed, r.json()

The environment is scrubbed of proxy variables and of credentials the caller did not
ask for, so a developer's shell cannot change what a test sees.
"""

import json
import os
import subprocess
import tempfile
import time

import harness

_SCRUB = ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PASSWORD",
          "CREDENTIALS_DIRECTORY", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
          "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")


class Result:
    def __init__(self, argv, returncode, stdout, stderr, elapsed):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed

    def json(self):
        return json.loads(self.stdout)

    def __repr__(self):
        return (f"labelwatch exit {self.returncode} after {self.elapsed:.2f}s\n"
                f"stdout: {self.stdout[:2000]}\nstderr: {self.stderr[:2000]}")


def base_env(sim=None, credentials=True, env=None):
    full = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    if credentials and sim is not None:
        full["HUAWEICLOUD_SDK_AK"] = sim.ak
        full["HUAWEICLOUD_SDK_SK"] = sim.sk
        full["HUAWEICLOUD_SDK_PASSWORD"] = sim.password
    full.update(env or {})
    return full


def connection_args(sim, auth=None):
    """--endpoint/--project-id/--ca-file (and token settings for auth="token")."""
    args = ["--endpoint", sim.base_url, "--project-id", sim.project_id]
    if sim.ca_file:
        args += ["--ca-file", sim.ca_file]
    mode = auth or sim.auth
    if mode == "token":
        args += ["--auth", "token", "--iam-endpoint", sim.base_url, "--domain-name", "labelwatch",
                 "--user-name", "labelwatch"]
    elif mode == "none":
        args += ["--auth", "none"]
    return args


def run(sim, *args, env=None, credentials=True, connection=True, auth=None, timeout=120,
        output="json"):
    """Runs labelwatch with the simulator's connection settings before `args`."""
    argv = [harness.bin_path("labelwatch")]
    if connection:
        argv += connection_args(sim, auth)
    if output:
        argv += ["--output", output]
    argv += list(args)
    start = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       env=base_env(sim, credentials, env), stdin=subprocess.DEVNULL)
    return Result(argv, p.returncode, p.stdout, p.stderr, time.monotonic() - start)


def write_scenario(testcase, scenario):
    """Writes a scenario dict to a temporary JSON file and returns its path."""
    d = tempfile.mkdtemp(prefix="lw-client-")
    testcase.addCleanup(lambda: __import__("shutil").rmtree(d, ignore_errors=True))
    path = os.path.join(d, "scenario.json")
    with open(path, "w") as f:
        json.dump(scenario, f)
    return path


def paging_scenario(autos=23, workforces=0, dataset="ds-paging"):
    """One dataset with `autos` auto tasks and `workforces` team tasks, ids in order."""
    return {
        "name": "paging",
        "datasets": [{
            "dataset_id": dataset,
            "auto_tasks": [{"task_id": f"auto-{i:04d}"} for i in range(autos)],
            "workforce_tasks": [{"task_id": f"team-{i:04d}"} for i in range(workforces)],
        }],
    }
