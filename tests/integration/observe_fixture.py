#!/usr/bin/env python3
"""Starts tests/integration/observe_fixture_server (the observe layer on a scripted
scenario, see its source) for the observe and ops-file tests. Standard library only."""

import os
import subprocess
import tempfile

import harness

__all__ = ["fixture_binary", "Fixture", "family_names", "realistic_metrics"]


def fixture_binary():
    build = os.environ.get("LABELWATCH_BUILD_DIR",
                           os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build"))
    path = os.path.join(build, "tests", "integration", "observe_fixture_server")
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"{path} is not built (cmake --build build --target observe_fixture_server)")
    return path


def family_names():
    """Every metric family the registry registers, from the code itself."""
    out = subprocess.run([fixture_binary(), "--print-family-names"], check=True,
                         capture_output=True, text=True, timeout=30).stdout
    return [line for line in out.splitlines() if line]


def realistic_metrics():
    """A /metrics body with every family populated from the seed documents."""
    return subprocess.run([fixture_binary(), "--print-metrics"], check=True,
                          capture_output=True, text=True, timeout=30).stdout


class Fixture:
    """A running observe_fixture_server: url, port, process."""

    def __init__(self, testcase, tick_ms=200, auth=None):
        self.workdir = tempfile.mkdtemp(prefix="lw-observe-")
        ready = os.path.join(self.workdir, "ready.json")
        argv = [fixture_binary(), "--ready-file", ready, "--tick-ms", str(tick_ms)]
        if auth:
            user, password = auth
            pw_file = os.path.join(self.workdir, "password")
            with open(pw_file, "w") as f:
                f.write(password + "\n")
            os.chmod(pw_file, 0o600)
            argv += ["--basic-auth-user", user, "--basic-auth-password-file", pw_file]
            self.password_file = pw_file
        self.process = harness.Process(argv, self.workdir, "observe_fixture", testcase=testcase)
        info = harness.read_ready_file(ready, process=self.process)
        self.url = info["url"]
        self.port = info["port"]
        self.hostport = f"127.0.0.1:{self.port}"
