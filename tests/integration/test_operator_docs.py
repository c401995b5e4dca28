#!/usr/bin/env python3
"""The operator documentation is complete and correct (issue 7), checked against the
program rather than against lists kept here:

- etc/labelwatch.toml explains every key the reader accepts. The accepted keys come
  from labelwatchd itself: an unknown key in each table makes --check-config list the
  keys it expected.
- The README documents every event the code emits (event names found in lib/) and
  every HTTP route the server answers (found in lib/observe/http_endpoints.cpp).
- The README's minimal configuration passes --check-config as printed.
- The README keeps its first two commands and has every operator section."""

import os
import re
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("LABELWATCH_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BIN_DIR = os.environ.get("LABELWATCH_BIN_DIR", "build/daemon")
EXAMPLE = os.path.join(SOURCE, "etc", "labelwatch.toml")

MINIMAL = """[cloud]
endpoint = "https://modelarts.cn-north-4.myhuaweicloud.com"
project_id = "0123456789abcdef0123456789abcdef"
"""

# Where each table lives in a probe file, and its section header in the example.
TABLES = {
    "cloud": ("[cloud]", "[cloud]"),
    "auth": ("[auth]", "[auth]"),
    "poll": ("[poll]", "[poll]"),
    "watch[0]": ('[[watch]]\ndataset_id = "d"', "[[watch]]"),
    "server": ("[server]", "[server]"),
    "state": ("[state]", "[state]"),
    "events": ("[events]", "[events]"),
    "acceptance": ("[acceptance]", "[acceptance]"),
    "acceptance.rule[0]": ('[[watch]]\ndataset_id = "d"\n[[acceptance.rule]]\nname = "r"\n'
                           'action = "pass_all"', "[[acceptance.rule]]"),
}


def read(rel):
    with open(os.path.join(SOURCE, rel)) as f:
        return f.read()


def check_config(text):
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(text)
        path = f.name
    try:
        env = dict(os.environ, HUAWEICLOUD_SDK_AK="AK", HUAWEICLOUD_SDK_SK="SK")
        return path, subprocess.run([os.path.join(BIN_DIR, "labelwatchd"), "--check-config", path],
                                    capture_output=True, text=True, timeout=30, env=env)
    finally:
        os.unlink(path)


def accepted_keys(table):
    """The keys labelwatchd accepts in `table`, from its own unknown-key message."""
    header, _ = TABLES[table]
    if header == "[cloud]":
        header = ""  # MINIMAL ends inside [cloud]
    path, r = check_config(MINIMAL + header + "\nzz_probe_key = 1\n")
    m = re.search(re.escape(table) + r"\.zz_probe_key: .*?unknown key.*?expected one of: (.*)$",
                  r.stderr, re.M)
    assert m, f"no unknown-key message for {table}:\n{r.stderr}"
    return [k.strip() for k in m.group(1).split(",")]


def example_sections(text):
    """{section header: [lines]} of the example file."""
    sections, current = {}, None
    for line in text.splitlines():
        stripped = line.strip()
        if re.fullmatch(r"\[\[?[a-z.]+\]\]?", stripped):
            current = stripped
            sections.setdefault(current, [])
            continue
        if current:
            sections[current].append(line)
    return sections


ASSIGN = re.compile(r"^#?\s*([a-z_]+)\s*=")


def events_in_code():
    """Event names the daemon's code constructs (snake_case with an underscore)."""
    names = set()
    patterns = [r'make_task_event\([^;]*?"([a-z]+_[a-z_]+)"',
                r'plain_event\([^;]*?"([a-z]+_[a-z_]+)"',
                r'\b\w+\.name\s*=\s*"([a-z]+_[a-z_]+)"']
    for root, _, files in os.walk(os.path.join(SOURCE, "lib")):
        if os.sep + "sim" in root:
            continue  # the simulator's own vocabulary, not labelwatchd events
        for name in files:
            if not name.endswith((".cpp", ".hpp")):
                continue
            with open(os.path.join(root, name)) as f:
                text = f.read()
            for p in patterns:
                names.update(re.findall(p, text, re.S))
    return names


class OperatorDocs(unittest.TestCase):
    def test_example_config_explains_every_key(self):
        sections = example_sections(read("etc/labelwatch.toml"))
        for table, (_, header) in TABLES.items():
            keys = accepted_keys(table)
            self.assertGreater(len(keys), 0, table)
            lines = sections.get(header)
            self.assertIsNotNone(lines, f"example has no {header} section")
            for key in keys:
                if any(t.startswith(f"{table}.{key}") for t in TABLES):
                    continue  # a sub-table ([[acceptance.rule]]), checked as a table
                with self.subTest(table=table, key=key):
                    at = [i for i, l in enumerate(lines)
                          if (m := ASSIGN.match(l.strip())) and m.group(1) == key]
                    self.assertTrue(at, f"{header} {key} is not in the example")
                    # The key (or the group of keys it belongs to) has an explanation
                    # right above it: a comment line that is not itself a key.
                    i = at[0] - 1
                    while i >= 0 and ASSIGN.match(lines[i].strip()):
                        i -= 1
                    self.assertTrue(i >= 0 and lines[i].strip().startswith("#")
                                    and len(lines[i].strip()) > 3,
                                    f"{header} {key} has no explanation above it")

    def test_example_config_is_valid(self):
        _, r = check_config(read("etc/labelwatch.toml"))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_readme_documents_every_event(self):
        readme = read("README.md")
        m = re.search(r"^## Events\n(.*?)(?=^## )", readme, re.S | re.M)
        self.assertIsNotNone(m)
        documented = set(re.findall(r"^\| `([a-z_]+)` \|", m.group(1), re.M))
        code = events_in_code()
        self.assertGreaterEqual(len(code), 14, sorted(code))
        self.assertEqual(sorted(code - documented), [], "events emitted but not in the README")

    def test_readme_documents_every_endpoint(self):
        routes = set(re.findall(r'path == "(/[^"]*)"', read("lib/observe/http_endpoints.cpp")))
        self.assertIn("/metrics", routes)
        readme = read("README.md")
        m = re.search(r"^## HTTP endpoints\n(.*?)(?=^## )", readme, re.S | re.M)
        self.assertIsNotNone(m)
        documented = set(re.findall(r"^\| `(/[^`?]*)", m.group(1), re.M))
        self.assertEqual(routes, documented)

    def test_readme_minimal_configuration_is_valid(self):
        readme = read("README.md")
        m = re.search(r"^## Minimal configuration\n.*?```toml\n(.*?)```", readme, re.S | re.M)
        self.assertIsNotNone(m)
        path, r = check_config(m.group(1))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, f"{path}: ok (1 watch, 0 acceptance rules)\n")
        self.assertIn("ok (1 watch, 0 acceptance rules)", readme)  # the README shows it

    def test_readme_structure(self):
        readme = read("README.md")
        # The first two commands stay at the top.
        first = re.findall(r"```sh\n(.*?)\n```", readme, re.S)[:2]
        self.assertEqual(first, ["scripts/demo.sh", "scripts/test.sh"])
        for section in ("Install", "Credentials", "Minimal configuration", "Running under systemd",
                        "Several instances (labelwatchd@)", "Prometheus, alerts and the dashboard",
                        "Events", "HTTP endpoints", "State, restarts and upgrades",
                        "Troubleshooting", "Exit codes", "labelwatch-sim"):
            self.assertRegex(readme, rf"(?m)^## {re.escape(section)}$")
        for topic in ("APIG.0301", "Clock skew", "Throttling", "Retry-After", "ca_file",
                      "Proxies", "DynamicUser", "systemd-creds encrypt", "LoadCredential",
                      "--reset-state", ".backup", "labelwatchd@"):
            self.assertIn(topic, readme)
        # Every shipped operations file is named where the operator looks for it.
        for path in ("scrape.yml", "labelwatch-alerts.yml", "labelwatch.json",
                     "examples/labelwatch.toml"):
            self.assertIn(path, readme)


if __name__ == "__main__":
    unittest.main()
