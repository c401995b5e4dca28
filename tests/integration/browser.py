#!/usr/bin/env python3
"""Headless Chromium for integration tests (Debian package `chromium`), and a small DOM.

    import browser
    dom = browser.load(url)                      # the DOM after Chromium rendered the page
    rows = dom.find_all("tr", cls="task")
    rows[0].attrs["data-status"], rows[0].find(cls="task-name").text()
    browser.screenshot(url, browser.output_dir("status_page") / "status.png")

Chromium runs with a fresh profile in a temporary directory, no sandbox (containers),
no GPU and no background networking, so a test talks to nothing but its own loopback
servers. `--dump-dom` prints the DOM once the page has loaded: what a person would see,
parsed by the browser's own HTML parser (so markup in a task name that was not escaped
would show up as elements here, not as text). Standard library only.
"""

import html.parser
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile

__all__ = ["find_chromium", "run", "load", "dump_dom", "screenshot", "parse", "Node",
           "output_dir"]

_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-default-apps", "--disable-extensions", "--disable-dev-shm-usage",
    "--hide-scrollbars", "--mute-audio", "--no-default-browser-check",
]


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    raise FileNotFoundError("chromium not found on PATH: install the Debian package `chromium` "
                            "(scripts/setup-deps.sh does)")


def run(args, timeout=90.0):
    """Runs chromium with the test flags plus `args`; returns (stdout, stderr) as text.

    Raises AssertionError with stderr when Chromium fails or exceeds `timeout`; the
    whole process group (renderer, GPU and zygote children) is killed either way.
    """
    profile = tempfile.mkdtemp(prefix="lw-chromium-")
    argv = [find_chromium(), *_FLAGS, f"--user-data-dir={profile}", *args]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True,
                            env=dict(os.environ, HOME=profile))
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"chromium timed out after {timeout}s: {err.decode(errors='replace')[-2000:]}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        shutil.rmtree(profile, ignore_errors=True)
    if proc.returncode != 0:
        raise AssertionError(f"chromium exited with {proc.returncode}: "
                             f"{err.decode(errors='replace')[-2000:]}")
    return out.decode(errors="replace"), err.decode(errors="replace")


def dump_dom(url, timeout=90.0):
    """The serialized DOM of `url` after load, as Chromium's --dump-dom prints it."""
    out, _ = run(["--dump-dom", url], timeout)
    if "<html" not in out:
        raise AssertionError(f"chromium printed no DOM for {url}: {out[:500]!r}")
    return out


def load(url, timeout=90.0):
    """dump_dom(url) parsed into a Node tree."""
    return parse(dump_dom(url, timeout))


def screenshot(url, path, width=1280, height=1600, timeout=90.0):
    """Saves a PNG of `url` at `path` (a str or Path); returns the Path."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    run([f"--screenshot={path}", f"--window-size={width},{height}", url], timeout)
    data = path.read_bytes() if path.exists() else b""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise AssertionError(f"chromium wrote no PNG at {path}")
    return path


def output_dir(name):
    """A directory for artefacts a person may want to look at (screenshots): 
    $LABELWATCH_TEST_OUTPUT_DIR/<name>, else <build>/test-output/<name>."""
    base = os.environ.get("LABELWATCH_TEST_OUTPUT_DIR")
    if not base:
        build = os.environ.get("LABELWATCH_BUILD_DIR",
                               os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build"))
        base = os.path.join(build, "test-output")
    d = pathlib.Path(base) / name
    d.mkdir(parents=True, exist_ok=True)
    return d


# ---------------------------------------------------------------------------------------
# A minimal DOM over html.parser, enough to find elements by tag, id, class and attribute.

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
         "param", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.children = []  # Nodes and str

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def find_all(self, tag=None, cls=None, id=None, **attrs):
        """Descendants (and self) matching tag, a class, an id and attribute values.
        Attribute names use '_' for '-': data_status="running"."""
        want = {k.replace("_", "-"): v for k, v in attrs.items()}
        out = []
        for n in self.iter():
            if tag and n.tag != tag:
                continue
            if cls and cls not in n.classes:
                continue
            if id is not None and n.attrs.get("id") != id:
                continue
            if any(n.attrs.get(k) != v for k, v in want.items()):
                continue
            out.append(n)
        return out

    def find(self, tag=None, cls=None, id=None, **attrs):
        found = self.find_all(tag, cls, id, **attrs)
        return found[0] if found else None

    def text(self):
        parts = []
        for c in self.children:
            parts.append(c if isinstance(c, str) else c.text())
        return "".join(parts)

    def __repr__(self):
        return f"<{self.tag} {self.attrs}>"


class _Builder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in _VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse(text):
    b = _Builder()
    b.feed(text)
    b.close()
    return b.root
