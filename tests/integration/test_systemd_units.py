#!/usr/bin/env python3
"""The shipped systemd units (issue 7): `systemd-analyze verify` passes and
`systemd-analyze security --offline=true` rates each at most 2.0 ("OK"). The units are
the ones `cmake --install` writes (build/systemd/, paths rewritten to the install
prefix), with the binary path pointed at the build tree so verify can check that
ExecStart= exists. The README's credentials drop-in is verified too."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

BUILD = os.environ.get("LABELWATCH_BUILD_DIR", "build")
SOURCE = os.environ.get("LABELWATCH_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BIN_DIR = os.environ.get("LABELWATCH_BIN_DIR", os.path.join(BUILD, "daemon"))
UNITS = ("labelwatchd.service", "labelwatchd@.service")
MAX_EXPOSURE = 2.0


def cache_value(name):
    with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split("=", 1)[1].strip()
    raise KeyError(name)


def analyze(*args, cwd=None):
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def directives(text):
    """[(key, value)] of a unit file, in order (comments and sections dropped)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        out.append((key.strip(), value.strip()))
    return out


def values(text, key):
    return [v for k, v in directives(text) if k == key]


class Units(unittest.TestCase):
    def setUp(self):
        self.prefix = cache_value("CMAKE_INSTALL_PREFIX")
        self.dir = tempfile.mkdtemp(prefix="lw-units-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def installed_text(self, unit):
        with open(os.path.join(BUILD, "systemd", unit)) as f:
            return f.read()

    def prepare(self, unit, text=None, extra=""):
        """The installed unit with ExecStart= and ExecReload= on the built binary."""
        text = self.installed_text(unit) if text is None else text
        installed_bin = os.path.join(self.prefix, "bin", "labelwatchd")
        built = os.path.abspath(os.path.join(BIN_DIR, "labelwatchd"))
        text = text.replace(installed_bin, built) + extra
        path = os.path.join(self.dir, unit)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_installed_units_name_the_installed_paths(self):
        etc = "/etc" if self.prefix == "/usr" else os.path.join(self.prefix, "etc")
        for unit, config in (("labelwatchd.service", "labelwatch.toml"),
                             ("labelwatchd@.service", "%i.toml")):
            text = self.installed_text(unit)
            binary = os.path.join(self.prefix, "bin", "labelwatchd")
            cfg = f"{etc}/labelwatch/{config}"
            self.assertEqual(values(text, "ExecStart"), [f"{binary} --config {cfg}"], unit)
            self.assertEqual(values(text, "ExecReload"),
                             [f"{binary} --check-config {cfg}", "/bin/kill -HUP $MAINPID"], unit)
            self.assertNotIn("/usr/bin/labelwatchd", text.replace(binary, ""), unit)

    def test_units_are_notify_services_with_watchdog_credentials_and_state(self):
        for unit in UNITS:
            text = self.installed_text(unit)
            d = dict(directives(text))
            with self.subTest(unit=unit):
                self.assertEqual(d["Type"], "notify")
                self.assertEqual(d["NotifyAccess"], "main")
                self.assertEqual(d["WatchdogSec"], "60s")
                self.assertEqual(d["DynamicUser"], "yes")
                self.assertEqual(d["RestartPreventExitStatus"], "2")
                self.assertTrue(d["StateDirectory"].startswith("labelwatch"))
                self.assertEqual(d["ConfigurationDirectory"], "labelwatch")
                self.assertEqual(sorted(v.split(":")[0] for v in values(text, "LoadCredential")),
                                 ["ak", "sk"])
                # The drain bound (10 s) plus closing the store fits in TimeoutStopSec.
                self.assertGreaterEqual(int(d["TimeoutStopSec"].rstrip("s")), 20)
                for key in ("ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices",
                            "NoNewPrivileges", "MemoryDenyWriteExecute", "LockPersonality",
                            "RestrictNamespaces", "ProtectKernelTunables", "ProtectKernelModules",
                            "ProtectKernelLogs", "ProtectControlGroups", "RestrictAddressFamilies",
                            "SystemCallFilter"):
                    self.assertIn(key, d)
                self.assertEqual(d["CapabilityBoundingSet"], "")
                self.assertEqual(d["ProtectSystem"], "strict")

    def test_verify_passes(self):
        for unit in UNITS:
            path = self.prepare(unit)
            r = analyze("verify", path, cwd=self.dir)
            self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""), unit)
        # An instance of the template.
        self.prepare("labelwatchd@.service")
        r = analyze("verify", os.path.join(self.dir, "labelwatchd@eu-west.service"), cwd=self.dir)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))

    def test_verify_catches_what_it_should(self):
        # The check has teeth: a missing binary and a misspelt directive are reported.
        text = self.installed_text("labelwatchd.service")
        missing = os.path.join(self.dir, "missing", "labelwatchd.service")
        os.makedirs(os.path.dirname(missing))
        with open(missing, "w") as f:
            f.write(text.replace(os.path.join(self.prefix, "bin", "labelwatchd"),
                                 "/nonexistent/labelwatchd"))
        r = analyze("verify", missing, cwd=self.dir)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("/nonexistent/labelwatchd", r.stderr)
        typo = self.prepare("labelwatchd.service", extra="\n[Service]\nProtectKernelTunable=yes\n")
        r = analyze("verify", typo, cwd=self.dir)
        self.assertIn("Unknown key", r.stderr)

    def exposure(self, path):
        r = analyze("security", "--offline=true", f"--threshold={int(MAX_EXPOSURE * 10)}", path,
                    cwd=self.dir)
        m = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        return r.returncode, float(m.group(1)), m.group(2), r.stdout

    def test_security_rating_is_ok(self):
        self.prepare("labelwatchd@.service")
        for path in (self.prepare("labelwatchd.service"),
                     os.path.join(self.dir, "labelwatchd@eu-west.service")):
            code, level, word, out = self.exposure(path)
            with self.subTest(unit=os.path.basename(path)):
                self.assertEqual(code, 0, out)
                self.assertLessEqual(level, MAX_EXPOSURE, out)
                self.assertEqual(word, "OK", out)

    def test_security_rating_notices_missing_hardening(self):
        # Without its hardening block the same unit is rated far worse (the check is real).
        text = self.installed_text("labelwatchd.service")
        head, _, _ = text.partition("# Hardening:")
        path = os.path.join(self.dir, "bare", "labelwatchd.service")
        os.makedirs(os.path.dirname(path))
        installed_bin = os.path.join(self.prefix, "bin", "labelwatchd")
        with open(path, "w") as f:
            f.write(head.replace(installed_bin, os.path.abspath(os.path.join(BIN_DIR, "labelwatchd")))
                    + "\n[Install]\nWantedBy=multi-user.target\n")
        code, level, _, _ = self.exposure(path)
        self.assertNotEqual(code, 0)
        self.assertGreater(level, MAX_EXPOSURE)

    def test_readme_credentials_drop_in_verifies(self):
        # The README's LoadCredentialEncrypted= drop-in, appended to the unit as systemd
        # would merge it, still verifies and rates OK.
        with open(os.path.join(SOURCE, "README.md")) as f:
            readme = f.read()
        m = re.search(r"```ini\n# /etc/systemd/system/labelwatchd\.service\.d/credentials\.conf\n"
                      r"(.*?)```", readme, re.S)
        self.assertIsNotNone(m, "README has no credentials drop-in block")
        drop_in = m.group(1)
        self.assertIn("LoadCredentialEncrypted=ak:", drop_in)
        self.assertIn("LoadCredential=\n", drop_in)  # resets the plain-file credentials
        path = self.prepare("labelwatchd.service", extra="\n" + drop_in)
        r = analyze("verify", path, cwd=self.dir)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))
        code, level, word, out = self.exposure(path)
        self.assertEqual((code, word), (0, "OK"), out)


if __name__ == "__main__":
    unittest.main()
