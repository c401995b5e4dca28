#!/usr/bin/env python3
"""Shared infrastructure for labelwatch integration tests (Python standard library only).

Everything runs for real on loopback: processes are started from the build tree, bind
ports chosen by the OS, and tell us where they listen through ready files. Nothing
sleeps to synchronise: wait with poll_until(...) against a deadline.

Quick reference
---------------
    import harness

    class T(unittest.TestCase):
        def test_x(self):
            sim = harness.Sim.start(self, scenario="builtin:seeds")   # TLS + AK/SK
            r = sim.get(sim.v2("/datasets/WxCREuCkBSAlQr9xrde/tasks/XGrRZuCV1qmMxnsmD5u"))
            self.assertEqual(r.status, 200); doc = r.json()
            sim.arm_fault(kind="throttle", endpoint="auto_task", count=1)
            entries = sim.journal(since=0, endpoint="auto_task")
            harness.poll_until(lambda: sim.task_status("iYZx7gScPUozOXner9k") == 3, 10)

Pieces
------
    bin_path(name)                  executable in the build tree (LABELWATCH_BIN_DIR)
    poll_until(fn, timeout, ...)    calls fn until it returns a truthy value; returns it,
                                    raises AssertionError with `what` on timeout
    Process                         a child process with logs in files; stop() sends
                                    SIGTERM then SIGKILL; registered for cleanup, prints
                                    its log tail if it died unexpectedly
    read_ready_file(path, timeout)  waits for a JSON ready file and returns it
    sign_request(...)               AK/SK SDK-HMAC-SHA256 (fact sheet §1), independent of
                                    the C++ signer so each checks the other
    Client                          keep-alive HTTP(S) client: verifies TLS against a CA
                                    file, signs with AK/SK or sends X-Auth-Token
    Response                        status, headers (lower-case dict), body bytes, json()
    Sim                             a running labelwatch-sim: start(...), v2(path),
                                    get/put/post, control(...), journal(...),
                                    arm_fault(...), clear_faults(), patch_task(...),
                                    view(), task(...), issue_token(...), kill(), stop()
    daemon_config(sim, watches,..)  TOML text for labelwatchd watching a Sim
    Daemon                          a running labelwatchd: start(...), events(...),
                                    wait_event(...), get(path), metrics(), tasks(),
                                    restart(), kill(), stop(); its event log file and
                                    state database survive restarts

Environment (set by ctest): LABELWATCH_BIN_DIR, LABELWATCH_BUILD_DIR, LABELWATCH_SOURCE_DIR.
LABELWATCH_KEEP_LOGS=1 prints every process log tail at cleanup.
"""

import atexit
import datetime
import hashlib
import hmac
import http.client
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse

__all__ = [
    "bin_path", "poll_until", "Process", "read_ready_file", "sign_request", "sdk_date",
    "canonical_request", "Client", "Response", "Sim", "Daemon", "daemon_config", "TEST_AK",
    "TEST_SK", "TEST_PASSWORD",
]

# Test credentials: generated per run, handed to processes through the environment.
TEST_AK = "LWTEST" + secrets.token_hex(7).upper()
TEST_SK = secrets.token_urlsafe(30)
TEST_PASSWORD = "pw-" + secrets.token_urlsafe(12)

_live_processes = []


def _kill_leftovers():
    for p in list(_live_processes):
        try:
            p.kill()
        except Exception:
            pass


atexit.register(_kill_leftovers)


def bin_path(name):
    """Path of an executable built by CMake (labelwatch-sim, labelwatchd, labelwatch)."""
    base = os.environ.get("LABELWATCH_BIN_DIR")
    if not base:
        build = os.environ.get("LABELWATCH_BUILD_DIR",
                               os.path.join(os.path.dirname(__file__), "..", "..", "build"))
        base = os.path.join(build, "daemon")
    path = os.path.join(base, name)
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"{path} is not built (set LABELWATCH_BIN_DIR or build it)")
    return path


def poll_until(fn, timeout=10.0, interval=0.05, what="condition"):
    """Calls fn() until it returns something truthy, and returns that value.

    Raises AssertionError naming `what` (and the last value or exception) when
    `timeout` seconds pass first. Exceptions from fn count as "not yet".
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = fn()
            if value:
                return value
            last = value
        except Exception as e:  # noqa: BLE001 - "not yet" includes connection errors
            last = e
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


# ---------------------------------------------------------------------------------------
# Processes


class Process:
    """A child process whose stdout/stderr go to files in `workdir`.

    stop() sends SIGTERM, waits `grace` seconds, then SIGKILL; returns the exit code.
    When created with a TestCase, stop() is registered as a cleanup, and the log tail
    is printed if the process exited on its own with a non-zero code. With
    `expect_clean_exit`, the cleanup also fails the test unless the process exits 0 on
    SIGTERM (this is how sanitizer findings at exit, e.g. leaks, surface).
    """

    def __init__(self, argv, workdir, name, env=None, testcase=None, expect_clean_exit=False):
        self.argv = list(argv)
        self.name = name
        self.workdir = workdir
        self.stdout_path = os.path.join(workdir, f"{name}.stdout")
        self.stderr_path = os.path.join(workdir, f"{name}.stderr")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self._out, stderr=self._err,
                                     stdin=subprocess.DEVNULL, env=full_env,
                                     start_new_session=True)
        self._stopped_by_us = False
        self.expect_clean_exit = expect_clean_exit
        _live_processes.append(self.proc)
        if testcase is not None:
            testcase.addCleanup(self._cleanup)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def stop(self, grace=10.0):
        if self.proc.poll() is None:
            self._stopped_by_us = True
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close_files()
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self._stopped_by_us = True
            self.proc.kill()
            self.proc.wait()
        self._close_files()

    def _close_files(self):
        for f in (self._out, self._err):
            if not f.closed:
                f.close()
        if self.proc in _live_processes:
            _live_processes.remove(self.proc)

    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def log_tail(self, lines=40):
        text = self.stderr()
        return "\n".join(text.splitlines()[-lines:])

    def _cleanup(self):
        exited_on_its_own = self.proc.poll() is not None and not self._stopped_by_us
        code = self.stop()
        if (exited_on_its_own and code not in (0, None)) or os.environ.get("LABELWATCH_KEEP_LOGS"):
            print(f"\n--- {self.name} (exit {code}) stderr tail ---\n{self.log_tail()}\n---")
        if self.expect_clean_exit and code != 0:
            raise AssertionError(f"{self.name} exited with {code} when stopped:\n{self.log_tail()}")


def read_ready_file(path, timeout=20.0, process=None):
    """Waits until `path` holds a complete JSON object and returns it.

    Fails early with the process's log tail if `process` exits first.
    """
    def ready():
        if process is not None and not process.alive():
            raise AssertionError(f"{process.name} exited with {process.proc.returncode} before "
                                 f"it was ready:\n{process.log_tail()}")
        try:
            with open(path) as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    deadline = time.monotonic() + timeout
    while True:
        value = ready()
        if value:
            return value
        if time.monotonic() >= deadline:
            tail = process.log_tail() if process else ""
            raise AssertionError(f"no ready file {path} after {timeout}s\n{tail}")
        time.sleep(0.02)


# ---------------------------------------------------------------------------------------
# AK/SK signing (fact sheet §1), written from the algorithm, not from the C++ code.


def _enc(s):
    return urllib.parse.quote(s, safe="~")


def sdk_date(when=None):
    """X-Sdk-Date value ("20191115T033655Z") for `when` (a datetime) or now (UTC)."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    return when.strftime("%Y%m%dT%H%M%SZ")


def canonical_request(method, path, query, headers, signed, body):
    segments = [_enc(urllib.parse.unquote(seg)) for seg in path.split("/")]
    uri = "/".join(segments)
    if not uri.endswith("/"):
        uri += "/"
    params = []
    for item in query.split("&") if query else []:
        if not item:
            continue
        k, _, v = item.partition("=")
        params.append((_enc(urllib.parse.unquote_plus(k)), _enc(urllib.parse.unquote_plus(v))))
    params.sort()
    canonical_query = "&".join(f"{k}={v}" for k, v in params)
    lower = {k.lower(): str(v).strip() for k, v in headers.items()}
    block = "".join(f"{name}:{lower[name]}\n" for name in signed)
    payload = lower.get("x-sdk-content-sha256") or hashlib.sha256(body).hexdigest()
    return "\n".join([method.upper(), uri, canonical_query, block, ";".join(signed), payload])


def sign_request(method, path, query, headers, body, ak, sk, signed=None):
    """Returns the Authorization value for a request.

    `headers` must already hold Host and X-Sdk-Date. `signed` is the list of header
    names to sign (default: every header given), lower-cased and sorted here.
    """
    names = sorted({n.lower() for n in (signed or headers.keys())})
    canonical = canonical_request(method, path, query, headers, names, body)
    date = {k.lower(): v for k, v in headers.items()}["x-sdk-date"]
    to_sign = "SDK-HMAC-SHA256\n" + date + "\n" + hashlib.sha256(canonical.encode()).hexdigest()
    sig = hmac.new(sk.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return f"SDK-HMAC-SHA256 Access={ak}, SignedHeaders={';'.join(names)}, Signature={sig}"


# ---------------------------------------------------------------------------------------
# HTTP client


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def __repr__(self):
        return f"Response({self.status}, {self.body[:200]!r})"


class Client:
    """A keep-alive HTTP(S) client for one base URL.

    auth: "aksk" (sign with ak/sk), "token" (X-Auth-Token), or None. Connection errors
    propagate (http.client / ssl / socket exceptions); the connection is re-opened on
    the next request.
    """

    def __init__(self, base_url, ca_file=None, ak=None, sk=None, token=None, timeout=10.0,
                 server_hostname=None):
        u = urllib.parse.urlsplit(base_url)
        self.scheme = u.scheme
        self.host = u.hostname
        self.port = u.port or (443 if u.scheme == "https" else 80)
        self.ak, self.sk, self.token = ak, sk, token
        self.timeout = timeout
        self.ca_file = ca_file
        self.server_hostname = server_hostname
        self._conn = None

    def host_header(self):
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"

    def _connection(self):
        if self._conn is None:
            if self.scheme == "https":
                ctx = ssl.create_default_context(cafile=self.ca_file)
                if self.server_hostname:
                    ctx.check_hostname = True
                conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                                   context=ctx)
                if self.server_hostname:
                    conn._tunnel_host = None  # noqa: SLF001 - plain direct connection
                    conn.host = self.server_hostname
                    conn._create_connection = (  # noqa: SLF001
                        lambda addr, timeout, source=None: socket.create_connection(
                            (self.host, self.port), timeout))
            else:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._conn = conn
        return self._conn

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def request(self, method, path, query=None, body=None, headers=None, sign=True,
                auth=None, signed_headers=None, date=None):
        """Sends one request and returns a Response.

        query: dict or raw string. body: bytes, str or a JSON-able object. auth: override
        the client's mode ("aksk", "token", None). date: X-Sdk-Date value to use.
        """
        if isinstance(query, dict):
            query = urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        query = query or ""
        if body is None:
            data = b""
        elif isinstance(body, (bytes, bytearray)):
            data = bytes(body)
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body).encode()
        hdrs = {"Host": self.host_header()}
        if data or method in ("PUT", "POST", "PATCH"):
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        mode = auth if auth is not None else ("aksk" if self.ak else "token" if self.token else None)
        if sign and mode == "aksk":
            hdrs.setdefault("X-Sdk-Date", date or sdk_date())
            names = signed_headers or [n for n in hdrs if n.lower() != "authorization"]
            hdrs["Authorization"] = sign_request(method, path, query, hdrs, data, self.ak,
                                                 self.sk, names)
        elif sign and mode == "token" and self.token:
            hdrs["X-Auth-Token"] = self.token
        target = path + ("?" + query if query else "")
        conn = self._connection()
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            if data or method in ("PUT", "POST", "PATCH"):
                conn.putheader("Content-Length", str(len(data)))
            conn.endheaders(data if data else None)
            resp = conn.getresponse()
            payload = resp.read()
        except Exception:
            self.close()
            raise
        headers_out = {k.lower(): v for k, v in resp.getheaders()}
        if resp.will_close:
            self.close()
        return Response(resp.status, headers_out, payload)


# ---------------------------------------------------------------------------------------
# The simulator


class Sim:
    """A running labelwatch-sim.

    Attributes: base_url, port, ca_file (None for plain HTTP), project_id, ak, sk,
    password, process (a Process), ready (the ready-file JSON), workdir.
    """

    @classmethod
    def start(cls, testcase, scenario="builtin:seeds", auth="aksk", tls=True, args=(),
              env=None, timeout=20.0, port=0, tls_files=None):
        """port: listen on this port (0: the OS chooses). tls_files: (cert, key, ca) to
        serve instead of a generated certificate, ca being what clients verify it with
        (a restarted simulator keeps its identity)."""
        workdir = tempfile.mkdtemp(prefix="lw-sim-")
        if testcase is not None:
            testcase.addCleanup(_rmtree, workdir)
        ready_path = os.path.join(workdir, "ready.json")
        argv = [bin_path("labelwatch-sim"), "--listen", f"127.0.0.1:{port}", "--ready-file",
                ready_path, "--scenario", scenario, "--auth", auth]
        if tls_files:
            argv += ["--tls-cert", tls_files[0], "--tls-key", tls_files[1]]
        elif tls:
            argv += ["--tls", "auto", "--tls-dir", os.path.join(workdir, "tls")]
        else:
            argv += ["--tls", "off"]
        argv += list(args)
        full_env = {"HUAWEICLOUD_SDK_AK": TEST_AK, "HUAWEICLOUD_SDK_SK": TEST_SK,
                    "HUAWEICLOUD_SDK_PASSWORD": TEST_PASSWORD}
        full_env.update(env or {})
        proc = Process(argv, workdir, "labelwatch-sim", env=full_env, testcase=testcase,
                       expect_clean_exit=True)
        ready = read_ready_file(ready_path, timeout, proc)
        if tls_files:
            ready = dict(ready, ca_file=tls_files[2])
        sim = cls(proc, ready, workdir)
        if testcase is not None:
            testcase.addCleanup(sim.close_clients)
        return sim

    def __init__(self, process, ready, workdir):
        self.process = process
        self.ready = ready
        self.workdir = workdir
        self.base_url = ready["base_url"]
        self.port = ready["port"]
        self.ca_file = ready.get("ca_file") or None
        self.project_id = ready["project_id"]
        self.ak, self.sk, self.password = TEST_AK, TEST_SK, TEST_PASSWORD
        self.auth = ready.get("auth", "aksk")
        self.client = self.new_client()
        self._control = Client(self.base_url, self.ca_file)

    def new_client(self, **kw):
        """A fresh keep-alive client; defaults match the simulator's auth mode."""
        params = {"ca_file": self.ca_file}
        if self.auth == "aksk":
            params.update(ak=self.ak, sk=self.sk)
        params.update(kw)
        return Client(self.base_url, **params)

    def v2(self, suffix):
        """"/v2/{project_id}" + suffix."""
        return f"/v2/{self.project_id}{suffix}"

    def request(self, method, path, **kw):
        return self.client.request(method, path, **kw)

    def get(self, path, **kw):
        return self.client.request("GET", path, **kw)

    def put(self, path, body=None, **kw):
        return self.client.request("PUT", path, body=body, **kw)

    def post(self, path, body=None, **kw):
        return self.client.request("POST", path, body=body, **kw)

    # --- control API (/_sim/..., no auth, loopback only) ---

    def control(self, method, path, body=None, query=None, expect=(200, 201, 204)):
        r = self._control.request(method, "/_sim" + path, query=query, body=body, sign=False)
        if expect and r.status not in expect:
            raise AssertionError(f"control {method} /_sim{path} -> {r.status} {r.body[:300]!r}")
        return r

    def journal(self, since=0, **filters):
        """Journal entries with seq > since; filters: method, endpoint, task_id, status."""
        q = {"since": since}
        q.update({k: v for k, v in filters.items() if v is not None})
        return self.control("GET", "/journal", query=q).json()["entries"]

    def last_seq(self):
        return self.control("GET", "/journal", query={"since": 0, "limit": 0}).json()["last_seq"]

    def arm_fault(self, **spec):
        """Arms a fault (see the README's fault table); returns its id."""
        return self.control("POST", "/faults", body=spec).json()["id"]

    def clear_faults(self):
        self.control("DELETE", "/faults")

    def faults(self):
        return self.control("GET", "/faults").json()["faults"]

    def patch_task(self, task_id, patch, freeze=False):
        return self.control("PATCH", f"/tasks/{task_id}", body=patch,
                            query={"freeze": "true"} if freeze else None).json()

    def delete_task(self, task_id):
        self.control("DELETE", f"/tasks/{task_id}")

    def create_task(self, dataset_id, kind, spec):
        """kind: "auto" or "workforce"; spec in the scenario task format. Returns the id."""
        path = f"/datasets/{dataset_id}/{'auto-tasks' if kind == 'auto' else 'workforce-tasks'}"
        return self.control("POST", path, body=spec).json()["task_id"]

    def settings(self, **changes):
        if changes:
            return self.control("PUT", "/settings", body=changes).json()
        return self.control("GET", "/settings").json()

    def view(self):
        return self.control("GET", "/view").json()

    def task(self, task_id):
        """The task's current document as the simulator holds it (no faults, no auth)."""
        return self.control("GET", f"/tasks/{task_id}").json()["document"]

    def task_status(self, task_id):
        return self.task(task_id).get("status")

    def issue_token(self, user="labelwatch", domain="labelwatch", password=None, project_id=None):
        """POST /v3/auth/tokens; returns (token, response)."""
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "password": password if password is not None else self.password,
            "domain": {"name": domain}}}},
            "scope": {"project": {"id": project_id or self.project_id}}}}
        c = Client(self.base_url, self.ca_file)
        r = c.request("POST", "/v3/auth/tokens", body=body, sign=False,
                      headers={"Content-Type": "application/json;charset=utf8"})
        c.close()
        return r.header("x-subject-token"), r

    def close_clients(self):
        self.client.close()
        self._control.close()

    def kill(self):
        """SIGKILL, as a crash would."""
        self.close_clients()
        self.process.expect_clean_exit = False
        self.process.kill()

    def stop(self):
        """Stops the simulator (SIGTERM); raises AssertionError unless it exits 0."""
        self.close_clients()
        code = self.process.stop()
        if code != 0:
            raise AssertionError(f"labelwatch-sim exited with {code}:\n{self.process.log_tail()}")
        return code


def _rmtree(path):
    import shutil
    shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# The daemon


def _toml_str(s):
    return json.dumps(str(s))


def daemon_config(sim, watches, poll=None, events_log=None, state_path=None,
                  listen="127.0.0.1:0", extra="", cloud=None):
    """TOML for labelwatchd watching `sim` with AK/SK from the environment.

    watches: list of dicts with [[watch]] keys (dataset_id, auto_tasks, workforce_tasks,
    discover, discover_interval, ...). poll: [poll] keys (durations as strings).
    cloud: more [cloud] keys (locale, ...).
    """
    lines = ["[cloud]", f"endpoint = {_toml_str(sim.base_url)}",
             f"project_id = {_toml_str(sim.project_id)}"]
    if sim.ca_file:
        lines.append(f"ca_file = {_toml_str(sim.ca_file)}")
    for k, v in (cloud or {}).items():
        lines.append(f"{k} = {json.dumps(v)}")
    lines += ["", "[auth]", f'method = "{sim.auth if sim.auth != "token" else "aksk"}"', ""]
    lines.append("[poll]")
    p = {"active_interval": "1s", "idle_interval": "2s", "terminal_interval": "5s",
         "request_timeout": "5s", "max_rate": 100.0}
    p.update(poll or {})
    for k, v in p.items():
        lines.append(f"{k} = {json.dumps(v)}")
    for w in watches:
        lines += ["", "[[watch]]"]
        for k, v in w.items():
            lines.append(f"{k} = {json.dumps(v)}")
    lines += ["", "[server]", f"listen = {_toml_str(listen)}"]
    if state_path:
        lines += ["", "[state]", f"path = {_toml_str(state_path)}"]
    if events_log:
        lines += ["", "[events]", f"log = {_toml_str(events_log)}"]
    return "\n".join(lines) + "\n" + extra


class Daemon:
    """A running labelwatchd. Events go to `events_path` (a JSON-lines file that survives
    restarts, so tests can check a whole run), state to `state_path`.

    Attributes: process, workdir, config_path, events_path, state_path, base_url.
    """

    @classmethod
    def start(cls, testcase, sim, watches, poll=None, extra="", workdir=None, env=None,
              args=(), timeout=30.0, expect_clean_exit=True, cloud=None, state_path=None,
              prefix=()):
        """state_path: the state database (default: state.db in the work directory)."""
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix="lw-daemon-")
            if testcase is not None:
                testcase.addCleanup(_rmtree, workdir)
        d = cls(testcase, workdir, expect_clean_exit)
        if state_path:
            d.state_path = state_path
        with open(d.config_path, "w") as f:
            f.write(daemon_config(sim, watches, poll=poll, events_log=d.events_path,
                                  state_path=d.state_path, extra=extra, cloud=cloud))
        d.env = {"HUAWEICLOUD_SDK_AK": sim.ak, "HUAWEICLOUD_SDK_SK": sim.sk,
                 "HUAWEICLOUD_SDK_PASSWORD": sim.password}
        d.env.update(env or {})
        d.args = list(args)
        d.prefix = list(prefix)  # runs labelwatchd through a wrapper (e.g. sd_notify.exec_prefix)
        d.launch(timeout)
        return d

    def __init__(self, testcase, workdir, expect_clean_exit=True):
        self.testcase = testcase
        self.workdir = workdir
        self.config_path = os.path.join(workdir, "labelwatch.toml")
        self.events_path = os.path.join(workdir, "events.jsonl")
        self.state_path = os.path.join(workdir, "state.db")
        self.expect_clean_exit = expect_clean_exit
        self.process = None
        self.base_url = None
        self.runs = 0
        self.env = {}
        self.args = []
        self.prefix = []

    def launch(self, timeout=30.0):
        """Starts labelwatchd (again) and waits for its daemon_started event."""
        self.runs += 1
        seen = len(self.events("daemon_started"))
        argv = self.prefix + [bin_path("labelwatchd"), "--config", self.config_path] + self.args
        self.process = Process(argv, self.workdir, f"labelwatchd-{self.runs}", env=self.env,
                               testcase=self.testcase, expect_clean_exit=self.expect_clean_exit)

        def started():
            if not self.process.alive():
                raise AssertionError(f"labelwatchd exited with {self.process.proc.returncode}:"
                                     f"\n{self.process.log_tail()}")
            ev = self.events("daemon_started")
            return ev[seen] if len(ev) > seen else None

        ev = poll_until(started, timeout, what="daemon_started event")
        self.base_url = ev["listen"]
        return self

    def events(self, name=None, **match):
        """Every event logged so far (all runs), optionally filtered by name and fields."""
        out = []
        try:
            with open(self.events_path, "rb") as f:
                data = f.read().decode()
        except FileNotFoundError:
            return out
        for line in data.splitlines():
            if not line.strip():
                continue
            e = json.loads(line)  # every line must be one complete JSON object
            if name is not None and e.get("event") != name:
                continue
            if all(e.get(k) == v for k, v in match.items()):
                out.append(e)
        return out

    def wait_event(self, name, timeout=20.0, count=1, **match):
        """Waits until `count` events match; returns the last matching one."""
        def found():
            if self.process is not None and not self.process.alive():
                raise AssertionError(f"labelwatchd exited while waiting for {name}:"
                                     f"\n{self.process.log_tail()}")
            ev = self.events(name, **match)
            return ev[count - 1] if len(ev) >= count else None
        return poll_until(found, timeout, what=f"event {name} {match}")

    def get(self, path, headers=None):
        c = Client(self.base_url)
        try:
            return c.request("GET", path, headers=headers, sign=False)
        finally:
            c.close()

    def metrics(self):
        r = self.get("/metrics")
        if r.status != 200:
            raise AssertionError(f"/metrics -> {r.status}")
        return r.body.decode()

    def metric(self, name, **labels):
        """The value of one series from /metrics, or None when absent."""
        for line in self.metrics().splitlines():
            if not line.startswith(name + "{") and not line.startswith(name + " "):
                continue
            head, _, value = line.rpartition(" ")
            if line.startswith(name + " "):
                if not labels:
                    return float(value)
                continue
            inner = head[len(name) + 1:-1]
            got = dict(_parse_labels(inner))
            if all(got.get(k) == v for k, v in labels.items()):
                return float(value)
        return None

    def tasks(self):
        return self.get("/api/v1/tasks").json()["tasks"]

    def task(self, task_id):
        for t in self.tasks():
            if t.get("task_id") == task_id:
                return t
        return None

    def kill(self):
        """SIGKILL, no chance to flush anything."""
        self.process.expect_clean_exit = False
        self.process.kill()

    def stop(self, grace=15.0):
        return self.process.stop(grace)

    def restart(self, timeout=30.0):
        if self.process is not None and self.process.alive():
            self.process.stop()
        return self.launch(timeout)


def _parse_labels(inner):
    i = 0
    while i < len(inner):
        eq = inner.index("=", i)
        key = inner[i:eq].strip().lstrip(",").strip()
        j = eq + 2  # skip ="
        val = []
        while inner[j] != '"':
            if inner[j] == "\\":
                j += 1
            val.append(inner[j])
            j += 1
        yield key, "".join(val)
        i = j + 1
        if i < len(inner) and inner[i] == ",":
            i += 1
