#!/usr/bin/env python3
"""The command lines of labelwatchd, labelwatch (every subcommand) and labelwatch-sim
(issue 7): `--help` lists every option the program accepts, each with a description;
`--version` prints "<program> <version>"; usage errors exit 2; the exit codes are in
`--help` and in the README.

"Every option" comes from the code, not from a list kept here: the options registered in
the sources (add_option/add_flag) must be exactly the ones the help texts show."""

import os
import re
import subprocess
import unittest

SOURCE = os.environ.get("LABELWATCH_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BIN_DIR = os.environ.get("LABELWATCH_BIN_DIR", "build/daemon")
SOURCES = {
    "labelwatchd": ["daemon/labelwatchd.cpp"],
    "labelwatch": ["daemon/labelwatch.cpp", "lib/app/cli.cpp"],
    "labelwatch-sim": ["daemon/labelwatch_sim.cpp"],
}


def run(program, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUAWEICLOUD_SDK_")}
    return subprocess.run([os.path.join(BIN_DIR, program), *args], capture_output=True,
                          text=True, timeout=30, env=env, stdin=subprocess.DEVNULL)


def project_version():
    with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
        return re.search(r"project\(labelwatch VERSION (\S+)", f.read()).group(1)


def registered_options(program):
    """Option names the sources register with CLI11, plus CLI11's own -h/--help."""
    names = {"-h", "--help"}
    for rel in SOURCES[program]:
        with open(os.path.join(SOURCE, rel)) as f:
            text = f.read()
        for m in re.finditer(r"add_(?:option|flag)\(\s*\"([^\"]+)\"", text):
            names.update(n.strip() for n in m.group(1).split(",") if n.strip().startswith("-"))
    return names


def parse_help(text):
    """({option: description}, [subcommand names]) from a CLI11 help text."""
    options, subcommands = {}, []
    section = None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        header = re.match(r"^([A-Z][A-Z a-z]*):\s*$", line)
        if header:
            section = header.group(1)
            continue
        if section == "Options":
            m = re.match(r"^ {2}(-\S+)(.*)$", line)
            if not m:
                continue
            desc = re.sub(r"^\s*[A-Z]+(:\{[^}]*\})?(\s|$)", " ", m.group(2))  # type name
            desc = re.sub(r"\b(Excludes|Needs|REQUIRED)\b.*?(?=\s{2,}|$)", "", desc).strip()
            j = i + 1
            while j < len(lines) and re.match(r"^ {6,}\S", lines[j]):
                desc += " " + lines[j].strip()
                j += 1
            for name in m.group(1).split(","):
                options[name] = desc.strip()
        elif section == "Subcommands":
            m = re.match(r"^ {2}([a-z][a-z-]*)\s+\S", line)
            if m:
                subcommands.append(m.group(1))
    return options, subcommands


def all_help(program, path=()):
    """{subcommand path: help text} for the program and, recursively, its subcommands."""
    r = run(program, *path, "--help")
    assert r.returncode == 0, (program, path, r.stderr)
    out = {tuple(path): r.stdout}
    for sub in parse_help(r.stdout)[1]:
        out.update(all_help(program, tuple(path) + (sub,)))
    return out


class CommandLine(unittest.TestCase):
    def test_help_lists_every_option_with_a_description(self):
        for program in SOURCES:
            with self.subTest(program=program):
                helps = all_help(program)
                shown = {}
                for path, text in helps.items():
                    options, _ = parse_help(text)
                    self.assertTrue(options, f"{program} {' '.join(path)}: no options parsed")
                    for name, desc in options.items():
                        self.assertGreaterEqual(len(desc.split()), 2,
                                                f"{program} {' '.join(path)} {name}: {desc!r}")
                        shown[name] = desc
                self.assertEqual(set(shown), registered_options(program))

    def test_labelwatch_subcommands_are_all_reachable(self):
        helps = all_help("labelwatch")
        paths = {" ".join(p) for p in helps}
        for expected in ("get auto-task", "get workforce-task", "get sample", "list auto-tasks",
                         "list workforce-tasks", "list samples", "list datasets"):
            self.assertIn(expected, paths)

    def test_version(self):
        for program in SOURCES:
            r = run(program, "--version")
            self.assertEqual((r.returncode, r.stdout, r.stderr),
                             (0, f"{program} {project_version()}\n", ""), program)

    def test_usage_errors_exit_2(self):
        for argv in (["labelwatchd", "--no-such-option"],
                     ["labelwatch", "list", "datasets", "--no-such-option"],
                     ["labelwatch-sim", "--no-such-option"]):
            r = run(*argv)
            self.assertEqual(r.returncode, 2, f"{argv}: {r.stdout}{r.stderr}")
            self.assertIn("--no-such-option", r.stderr, argv)
        self.assertEqual(run("labelwatch", "--no-such-option").returncode, 2)
        self.assertEqual(run("labelwatchd").returncode, 2)
        self.assertEqual(run("labelwatch").returncode, 2)
        self.assertEqual(run("labelwatch", "get", "auto-task", "--dataset", "x").returncode, 2)
        self.assertEqual(run("labelwatch-sim", "--scenario", "/nonexistent.json").returncode, 2)

    def test_exit_codes_are_documented_in_help_and_readme(self):
        expected = {"labelwatchd": ("0", "1", "2"), "labelwatch": ("0", "1", "2"),
                    "labelwatch-sim": ("0", "2")}
        with open(os.path.join(SOURCE, "README.md")) as f:
            readme = f.read()
        m = re.search(r"^## Exit codes\n(.*?)(?=^## )", readme, re.S | re.M)
        self.assertIsNotNone(m, "README has no '## Exit codes' section")
        section = m.group(1)
        for program, codes in expected.items():
            text = run(program, "--help").stdout
            self.assertRegex(text, r"Exit (status|codes):", program)
            tail = text[text.index("Exit "):]
            for code in codes:
                self.assertRegex(tail, rf"\b{code}\b", f"{program} --help: exit code {code}")
            row = re.search(rf"^\| `{re.escape(program)}` \|(.*)$", section, re.M)
            self.assertIsNotNone(row, f"README exit codes: no row for {program}")
            for code in codes:
                self.assertIn(f"`{code}`", row.group(1), f"README: {program} exit {code}")


if __name__ == "__main__":
    unittest.main()
