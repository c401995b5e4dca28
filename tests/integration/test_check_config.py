#!/usr/bin/env python3
"""labelwatchd --check-config and --config loading, run as the real binary."""

import os
import re
import subprocess
import tempfile
import unittest
from pathlib import Path

BIN_DIR = Path(os.environ.get("LABELWATCH_BIN_DIR", "build/daemon"))
SOURCE_DIR = Path(os.environ.get("LABELWATCH_SOURCE_DIR", Path(__file__).resolve().parents[2]))
LABELWATCHD = BIN_DIR / "labelwatchd"

CLOUD = """[cloud]
endpoint = "https://modelarts.cn-north-4.myhuaweicloud.com"
project_id = "0123456789abcdef0123456789abcdef"
"""

# "file:line: key: message", key being a dotted path with optional [index] parts.
ERROR_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<key>[A-Za-z_][\w.\[\]\"-]*): (?P<message>.+)$")


def run(*args, timeout=30):
    return subprocess.run([str(LABELWATCHD), *args], capture_output=True, text=True, timeout=timeout,
                          env={k: v for k, v in os.environ.items() if not k.startswith("HUAWEICLOUD_SDK_")})


class CheckConfig(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="labelwatch-check-")
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text, mode=0o600):
        path = self.dir / name
        path.write_text(text)
        path.chmod(mode)
        return path

    def good_config(self):
        ak = self.write("ak", "AK")
        sk = self.write("sk", "SK")
        return self.write("good.toml", CLOUD + f"""
[auth]
access_key_file = "{ak}"
secret_key_file = "{sk}"

[[watch]]
dataset_id = "ds1"

[[watch]]
dataset_id = "ds2"
discover = false
auto_tasks = ["t1"]

[state]
path = "{self.dir / 'state.db'}"

[[acceptance.rule]]
name = "pass-good"
min_pass_rate = 0.98
action = "pass_all"
""")

    def test_good_file_exits_0_with_a_summary(self):
        path = self.good_config()
        r = run("--check-config", str(path))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, f"{path}: ok (2 watches, 1 acceptance rule)\n")
        self.assertEqual(r.stderr, "")

    def test_bad_file_exits_2_with_every_error_located(self):
        path = self.write("bad.toml", CLOUD + """locale = "fr"

[poll]
active_intervl = "15s"
max_in_flight = 0

[[watch]]
dataset_id = "ds1"

[[acceptance.rule]]
name = "r"
datasets = ["ds9"]
action = 3
""")
        r = run("--check-config", str(path))
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "")
        lines = r.stderr.splitlines()
        self.assertEqual(lines[-1], f"{path}: 5 errors")
        errors = lines[:-1]
        self.assertEqual(len(errors), 5, r.stderr)
        for line in errors:
            m = ERROR_LINE.match(line)
            self.assertIsNotNone(m, f"not file:line: key: message: {line!r}")
            self.assertEqual(m["file"], str(path))
        self.assertEqual(errors[0], f'{path}:4: cloud.locale: unknown locale "fr"; expected "en-us" or "zh-cn"')
        self.assertTrue(errors[1].startswith(f'{path}:7: poll.active_intervl: unknown key (did you mean "active_interval"?)'),
                        errors[1])
        self.assertEqual(errors[2], f"{path}:8: poll.max_in_flight: must be between 1 and 1024, got 0")
        self.assertEqual(errors[3], f'{path}:15: acceptance.rule[0].datasets[0]: rule "r": dataset "ds9" is not '
                                    "watched by any [[watch]]; the rule could never act on it")
        self.assertTrue(errors[4].startswith(f'{path}:16: acceptance.rule[0].action: rule "r": expected an action '
                                             "name, got the integer 3"), errors[4])

    def test_syntax_error_names_the_line(self):
        path = self.write("syntax.toml", CLOUD + "[poll\nmax_rate = 1\n")
        r = run("--check-config", str(path))
        self.assertEqual(r.returncode, 2)
        first = r.stderr.splitlines()[0]
        self.assertTrue(first.startswith(f"{path}:4: invalid TOML: "), first)

    def test_missing_file_exits_2_with_a_clear_message(self):
        path = self.dir / "absent.toml"
        r = run("--check-config", str(path))
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.splitlines()[0], f"{path}: cannot read the configuration: No such file or directory")

    def test_missing_referenced_file_exits_2(self):
        path = self.write("refs.toml", CLOUD + f"""ca_file = "{self.dir / 'no-ca.pem'}"
[auth]
method = "none"
[state]
path = "{self.dir / 'state.db'}"
""")
        r = run("--check-config", str(path))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f"{path}:4: cloud.ca_file: cannot use {self.dir / 'no-ca.pem'}: No such file or directory",
                      r.stderr.splitlines())

    def test_notes_do_not_fail_the_check(self):
        path = self.write("notes.toml", CLOUD + f"""[auth]
access_key_file = "/run/credentials/labelwatch-test-absent.service/ak"
secret_key_file = "/run/credentials/labelwatch-test-absent.service/sk"
[state]
path = "{self.dir / 'state.db'}"
""")
        r = run("--check-config", str(path))
        self.assertEqual(r.returncode, 0, r.stderr)
        notes = r.stderr.splitlines()
        self.assertEqual(len(notes), 2, r.stderr)
        self.assertTrue(notes[0].startswith(f"{path}:5: auth.access_key_file: note: "), notes[0])
        self.assertEqual(r.stdout, f"{path}: ok (0 watches, 0 acceptance rules)\n")

    def test_no_secret_is_ever_printed(self):
        ak = self.write("ak", "AKSECRETVALUE", mode=0o644)
        sk = self.write("sk", "SKSECRETVALUE")
        path = self.write("secret.toml", CLOUD + f"""[auth]
access_key_file = "{ak}"
secret_key_file = "{sk}"
[state]
path = "{self.dir / 'state.db'}"
[poll]
max_rate = -1
""")
        r = run("--check-config", str(path))
        self.assertEqual(r.returncode, 2)
        self.assertNotIn("SECRETVALUE", r.stdout + r.stderr)
        self.assertIn("max_rate", r.stderr)

    def test_shipped_example_is_valid(self):
        example = SOURCE_DIR / "etc" / "labelwatch.toml"
        r = run("--check-config", str(example))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, f"{example}: ok (1 watch, 1 acceptance rule)\n")
        for line in r.stderr.splitlines():
            self.assertIn(": note: ", line)  # systemd-provided credentials and directories only

    def test_config_loads_and_validates_the_same_way(self):
        path = self.write("bad.toml", CLOUD + "[poll]\nmax_rate = 0\n")
        r = run("--config", str(path))
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{path}:5: poll.max_rate: must be a number greater than 0", r.stderr)

    def test_usage_errors_exit_2(self):
        path = self.good_config()
        r = run("--check-config", str(path), "--config", str(path))
        self.assertEqual(r.returncode, 2)
        r = run("--check-config")
        self.assertEqual(r.returncode, 2)
        r = run("--no-such-option")
        self.assertEqual(r.returncode, 2)
        r = run()
        self.assertEqual(r.returncode, 2)

    def test_help_and_version(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--check-config", r.stdout)
        self.assertIn("--config", r.stdout)
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith("labelwatchd "), r.stdout)


if __name__ == "__main__":
    unittest.main()
