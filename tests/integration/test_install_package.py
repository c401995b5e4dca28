#!/usr/bin/env python3
"""Install and package (issue 7), reusing the main build directory (no extra compile):

- `cmake --install` into a staging directory (DESTDIR) lays out binaries, unit files,
  the documented example config, alert rules, scrape config and dashboard; the staged
  binaries run, the staged example passes --check-config, the staged units verify.
- CPack builds the .deb; its contents, permissions, declared dependencies (dpkg-shlibdeps,
  cross-checked against what the binaries really load) and maintainer scripts (never
  start or enable the service) are inspected; apt resolves it on this machine
  (`apt-get install --simulate`); the packaged, stripped labelwatchd runs.

The install on a fresh Debian 12 (debootstrap + `apt install ./labelwatch_*.deb`) is
slow and needs a Debian mirror: tests/package/fresh_install.sh, results in
tests/package/fresh_install_result.txt."""

import glob
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

BUILD = os.path.abspath(os.environ.get("LABELWATCH_BUILD_DIR", "build"))
SOURCE = os.environ.get("LABELWATCH_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BINARIES = ("labelwatchd", "labelwatch", "labelwatch-sim")


def cache_value(name):
    with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split("=", 1)[1].strip()
    raise KeyError(name)


def project_version():
    with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
        return re.search(r"project\(labelwatch VERSION (\S+)", f.read()).group(1)


def run(argv, **kw):
    kw.setdefault("timeout", 600)
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def layout(prefix):
    """Where things go for an install prefix (relative paths, no leading '/')."""
    etc = "etc" if prefix == "/usr" else os.path.join(prefix, "etc").lstrip("/")
    p = prefix.lstrip("/")
    return {
        "bin": [f"{p}/bin/{b}" for b in BINARIES],
        "units": [f"{p}/lib/systemd/system/labelwatchd.service",
                  f"{p}/lib/systemd/system/labelwatchd@.service"],
        "docs": [f"{p}/share/doc/labelwatch/README.md",
                 f"{p}/share/doc/labelwatch/examples/labelwatch.toml"],
        "ops": [f"{p}/share/labelwatch/prometheus/labelwatch-alerts.yml",
                f"{p}/share/labelwatch/prometheus/labelwatch-alerts.test.yml",
                f"{p}/share/labelwatch/prometheus/scrape.yml",
                f"{p}/share/labelwatch/grafana/labelwatch.json"],
        "etc": f"{etc}/labelwatch",
    }


class Install(unittest.TestCase):
    def setUp(self):
        self.prefix = cache_value("CMAKE_INSTALL_PREFIX")
        self.stage = tempfile.mkdtemp(prefix="lw-stage-")
        self.addCleanup(shutil.rmtree, self.stage, True)

    def test_cmake_install_layout(self):
        r = run(["cmake", "--install", BUILD], env=dict(os.environ, DESTDIR=self.stage))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        lay = layout(self.prefix)
        for rel in lay["bin"]:
            path = os.path.join(self.stage, rel)
            self.assertTrue(os.path.isfile(path), rel)
            self.assertTrue(os.access(path, os.X_OK), rel)
        for rel in lay["units"] + lay["docs"] + lay["ops"]:
            path = os.path.join(self.stage, rel)
            self.assertTrue(os.path.isfile(path), rel)
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o644, rel)
        self.assertTrue(os.path.isdir(os.path.join(self.stage, lay["etc"])), lay["etc"])
        # Shipped files are the sources, byte for byte.
        for rel, src in ((lay["docs"][1], "etc/labelwatch.toml"),
                         (lay["ops"][0], "etc/prometheus/labelwatch-alerts.yml"),
                         (lay["ops"][3], "etc/grafana/labelwatch.json")):
            with open(os.path.join(self.stage, rel), "rb") as a, \
                    open(os.path.join(SOURCE, src), "rb") as b:
                self.assertEqual(a.read(), b.read(), rel)

        # The installed programs run.
        bindir = os.path.join(self.stage, self.prefix.lstrip("/"), "bin")
        for b in BINARIES:
            r = run([os.path.join(bindir, b), "--version"], timeout=30)
            self.assertEqual((r.returncode, r.stdout), (0, f"{b} {project_version()}\n"), b)
        example = os.path.join(self.stage, lay["docs"][1])
        r = run([os.path.join(bindir, "labelwatchd"), "--check-config", example], timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

        # The installed units verify, pointed at the staged binary (verify checks that
        # ExecStart= exists; the staging tree itself has no systemd to --root into).
        check = tempfile.mkdtemp(prefix="lw-stage-units-")
        self.addCleanup(shutil.rmtree, check, True)
        for unit in lay["units"]:
            with open(os.path.join(self.stage, unit)) as f:
                text = f.read()
            installed = os.path.join(self.prefix, "bin", "labelwatchd")
            self.assertIn(f"ExecStart={installed} --config ", text)
            path = os.path.join(check, os.path.basename(unit))
            with open(path, "w") as f:
                f.write(text.replace(installed, os.path.join(bindir, "labelwatchd")))
            r = run(["systemd-analyze", "verify", path], timeout=120, cwd=check)
            self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""), unit)


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prefix = cache_value("CMAKE_INSTALL_PREFIX")
        if cls.prefix != "/usr":
            raise unittest.SkipTest(f"the build is configured for {cls.prefix}; packages are "
                                    "built with -DCMAKE_INSTALL_PREFIX=/usr (scripts/test.sh)")
        cls.out = tempfile.mkdtemp(prefix="lw-deb-")
        r = run(["cpack", "-G", "DEB", "--config", os.path.join(BUILD, "CPackConfig.cmake"),
                 "-B", cls.out])
        if r.returncode != 0:
            shutil.rmtree(cls.out, True)
            raise AssertionError("cpack failed:\n" + r.stdout + r.stderr)
        debs = glob.glob(os.path.join(cls.out, "labelwatch_*.deb"))
        assert len(debs) == 1, debs
        cls.deb = debs[0]
        cls.fields = {}
        r = run(["dpkg-deb", "-f", cls.deb])
        key = None
        for line in r.stdout.splitlines():
            if line.startswith(" ") and key:
                cls.fields[key] += "\n" + line.strip()
                continue
            key, _, value = line.partition(":")
            cls.fields[key] = value.strip()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, True)

    def depends(self):
        """{package: constraint} of Depends (alternatives are not used)."""
        out = {}
        for item in self.fields["Depends"].split(","):
            m = re.match(r"\s*([a-z0-9.+-]+)\s*(?:\((.*)\))?\s*$", item)
            self.assertIsNotNone(m, item)
            out[m.group(1)] = m.group(2)
        return out

    def test_control_fields(self):
        f = self.fields
        self.assertEqual(f["Package"], "labelwatch")
        self.assertEqual(f["Version"], project_version())
        arch = run(["dpkg", "--print-architecture"]).stdout.strip()
        self.assertEqual(f["Architecture"], arch)
        self.assertIn("ModelArts", f["Description"])
        self.assertEqual(self.deb, os.path.join(self.out, f"labelwatch_{project_version()}_{arch}.deb"))

    def test_depends_on_every_runtime_library(self):
        deps = self.depends()
        for pattern in (r"libboost-json1\.81\.0", r"libboost-url1\.81\.0", r"libspdlog1\.\d+(-fmt\d+)?",
                        r"libprometheus-cpp-core1\.\d+", r"libsqlite3-0", r"libssl3",
                        r"libtomlplusplus3", r"libsystemd0", r"libfmt\d+", r"zlib1g",
                        r"libstdc\+\+6", r"libc6"):
            matches = [p for p in deps if re.fullmatch(pattern, p)]
            self.assertEqual(len(matches), 1, f"{pattern} not in Depends: {sorted(deps)}")
        self.assertFalse([p for p in deps if p.endswith("-dev")], deps)
        # Versioned where the libraries' shlibs say so (glibc symbols, for one).
        self.assertRegex(deps["libc6"] or "", r"^>= \S+")

        # Cross-check: the package of every shared library the binaries link directly
        # (DT_NEEDED) is declared.
        needed_pkgs = set()
        for b in BINARIES:
            exe = os.path.join(BUILD, "daemon", b)
            needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                                    run(["readelf", "-d", exe]).stdout))
            self.assertTrue(needed, b)
            ldd = run(["ldd", exe]).stdout
            for m in re.finditer(r"^\s*(\S+) => (/\S+)", ldd, re.M):
                if m.group(1) not in needed:
                    continue
                needed.discard(m.group(1))
                real = os.path.realpath(m.group(2))
                owner = run(["dpkg", "-S", real])
                if owner.returncode != 0:  # /lib vs /usr/lib aliasing on merged-/usr
                    owner = run(["dpkg", "-S", m.group(2)])
                self.assertEqual(owner.returncode, 0, f"{m.group(2)}: {owner.stderr}")
                needed_pkgs.add(owner.stdout.split(":")[0])
            self.assertEqual(needed - {"ld-linux-x86-64.so.2"}, set(), f"{b}: not resolved")
        def declared(pkg):
            # Declared by name, or through a virtual name the package provides (the
            # library's shlibs may name it: libspdlog1.10 provides libspdlog1.10-fmt9).
            provides = run(["dpkg-query", "-W", "-f=${Provides}", pkg]).stdout
            names = {pkg} | {re.sub(r"\s*\(.*\)", "", p).strip() for p in provides.split(",")}
            return bool(names & set(deps))

        missing = sorted(p for p in needed_pkgs if not declared(p))
        self.assertEqual(missing, [], f"loaded but not declared: {missing}")

    def test_contents_and_permissions(self):
        r = run(["dpkg-deb", "-c", self.deb])
        entries = {}
        for line in r.stdout.splitlines():
            perms, owner, _size, _date, _time, path = line.split(None, 5)
            entries[path.split(" -> ")[0].lstrip(".")] = (perms, owner)
        lay = layout("/usr")
        for rel in lay["bin"]:
            self.assertEqual(entries.get("/" + rel), ("-rwxr-xr-x", "root/root"), rel)
        for rel in lay["units"] + lay["docs"] + lay["ops"]:
            self.assertEqual(entries.get("/" + rel), ("-rw-r--r--", "root/root"), rel)
        self.assertEqual(entries.get("/etc/labelwatch/"), ("drwxr-xr-x", "root/root"))
        # Nothing outside the usual places, nothing from the build or test tree.
        for path in entries:
            self.assertTrue(path.startswith(("/usr/bin/", "/usr/lib/systemd/system/",
                                             "/usr/share/doc/labelwatch/", "/usr/share/labelwatch/",
                                             "/etc/labelwatch/"))
                            or path.endswith("/"), path)
        # No configuration or credentials ship: nothing can start with a placeholder.
        self.assertFalse([p for p in entries if p.startswith("/etc/labelwatch/") and
                          not p.endswith("/")])
        # The packaged binaries are stripped.
        x = tempfile.mkdtemp(prefix="lw-debx-")
        self.addCleanup(shutil.rmtree, x, True)
        self.assertEqual(run(["dpkg-deb", "-x", self.deb, x]).returncode, 0)
        for b in BINARIES:
            info = run(["file", "-L", os.path.join(x, "usr", "bin", b)]).stdout
            self.assertIn("stripped", info)
            self.assertNotIn("not stripped", info)
            r = run([os.path.join(x, "usr", "bin", b), "--version"], timeout=30)
            self.assertEqual((r.returncode, r.stdout), (0, f"{b} {project_version()}\n"))

    def test_maintainer_scripts_never_start_or_enable(self):
        x = tempfile.mkdtemp(prefix="lw-debctl-")
        self.addCleanup(shutil.rmtree, x, True)
        self.assertEqual(run(["dpkg-deb", "-e", self.deb, x]).returncode, 0)
        scripts = [n for n in ("preinst", "postinst", "prerm", "postrm")
                   if os.path.exists(os.path.join(x, n))]
        self.assertIn("postinst", scripts)
        for name in scripts:
            with open(os.path.join(x, name)) as f:
                text = f.read()
            code = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
            self.assertNotRegex(code, r"systemctl[^\n]*\b(enable|start|restart|reenable|preset)\b",
                                name)
            self.assertNotRegex(code, r"deb-systemd-(invoke|helper)|invoke-rc\.d|update-rc\.d", name)
            self.assertTrue(os.access(os.path.join(x, name), os.X_OK), name)
            r = run(["sh", "-n", os.path.join(x, name)])
            self.assertEqual(r.returncode, 0, f"{name}: {r.stderr}")
        # postinst prepares the root-only credentials directory (LoadCredential= sources).
        with open(os.path.join(x, "postinst")) as f:
            text = f.read()
        self.assertIn("mkdir -p /etc/labelwatch/credentials", text)
        self.assertIn("chmod 0700 /etc/labelwatch/credentials", text)

    def test_apt_resolves_it_here(self):
        r = run(["apt-get", "install", "--simulate", "--no-install-recommends", self.deb])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"(?m)^Inst labelwatch ")
        self.assertNotRegex(r.stdout, r"(?m)^Remv ")


if __name__ == "__main__":
    unittest.main()
