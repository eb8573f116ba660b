"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``) opens it.

Chromium is driven through the DevTools protocol over ``--remote-debugging-pipe`` (JSON messages
separated by NUL bytes on file descriptors 3 and 4), with the standard library only. The checks:
every ``<img>`` decoded (``naturalWidth > 0``), clicking a table header (a real mouse click at the
header's position) sorts the rows, the document requested nothing outside itself, and no
JavaScript error occurred (uncaught exceptions, ``console.error``, and the browser's own error log,
which also reports resources that failed to load).

A small report is built in ``tmp_path``; set ``WHOLESOIL_DEMO_REPORT`` to a demo's
``report.html`` to check that one too. Skipped, with the reason, where Chromium is not installed
(``.ci/browser-deps.sh`` installs it on Debian); ``WHOLESOIL_CHROMIUM`` names another binary.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from wholesoil._atomic import save_figure
from wholesoil.report import Report, external_references

#: Flags required on the CI machines (root, no GPU, no network): see the issue 11 brief.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
]

TIMEOUT_S = 60.0


def _chromium() -> str | None:
    env = os.environ.get("WHOLESOIL_CHROMIUM")
    if env:
        return shutil.which(env)
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class DevTools:
    """A minimal DevTools-protocol client over Chromium's debugging pipe (fd 3 in, fd 4 out)."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()
        # the child's ends moved above fd 10 so that dup2 onto 3 and 4 never meets itself
        child_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def _fds() -> None:  # in the child: fd 3 reads our commands, fd 4 carries the answers
            os.dup2(child_r, 3)
            os.dup2(child_w, 4)

        try:
            self.proc = subprocess.Popen(
                [binary, *CHROMIUM_FLAGS, "--remote-debugging-pipe",
                 f"--user-data-dir={profile}", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                # close_fds=False keeps the dup2'd 3 and 4 (Python's own descriptors are
                # close-on-exec anyway, PEP 446)
                preexec_fn=_fds, close_fds=False,
            )
        finally:
            os.close(child_r)
            os.close(child_w)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._r], [], [], max(left, 0.0))
            if not ready:
                raise TimeoutError("no answer from Chromium over the DevTools pipe")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"Chromium closed the DevTools pipe: {err[-2000:]}")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:
        """Send a command and return its result (events that arrive meanwhile are kept)."""
        self._next_id += 1
        cmd: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            cmd["sessionId"] = session
        os.write(self._w, json.dumps(cmd).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            msg = self._read_message(deadline)
            if msg.get("id") == self._next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method: str, session: str) -> dict[str, Any]:
        """Wait for an event of a session (one already received counts)."""
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            for i, ev in enumerate(self.events):
                if ev.get("method") == method and ev.get("sessionId") == session:
                    return self.events.pop(i)
            self.events.append(self._read_message(deadline))

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (OSError, RuntimeError, TimeoutError):  # already gone: wait or kill below
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)
        if self.proc.stderr:
            self.proc.stderr.close()


class Page:
    """One tab, opened on a file, with its errors and requests collected."""

    def __init__(self, browser: DevTools, path: Path) -> None:
        self.b = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget",
                                    {"targetId": target, "flatten": True})["sessionId"]
        self.target = target
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        self.send("Page.navigate", {"url": path.resolve().as_uri()})
        browser.wait_event("Page.loadEventFired", self.session)

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.b.send(method, params, self.session)

    def eval(self, expression: str) -> Any:
        res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True})
        if "exceptionDetails" in res:
            raise AssertionError(f"test script failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def click(self, selector: str) -> None:
        """A real left click at the centre of the element (scrolled into view first)."""
        box = self.eval(
            f"(() => {{const e = document.querySelector({json.dumps(selector)});"
            "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            "return [r.left + r.width / 2, r.top + r.height / 2];})()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                                                   "button": "left", "clickCount": 1})

    def problems(self) -> list[str]:
        """Script errors, console errors, browser error-log entries and outside requests."""
        self.eval("0")  # flush events that were queued before this call
        out = []
        for ev in self.b.events:
            if ev.get("sessionId") != self.session:
                continue
            m, p = ev.get("method"), ev.get("params", {})
            if m == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                out.append(f"uncaught: {d.get('exception', {}).get('description') or d['text']}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.error: " + " ".join(
                    str(a.get("value", a.get("description"))) for a in p.get("args", [])))
            elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append(f"log: {p['entry']['text']} {p['entry'].get('url', '')}")
            elif m == "Network.requestWillBeSent":
                url = p["request"]["url"]
                if not url.startswith(("data:", "file:", "about:")):
                    out.append(f"outside request: {url}")
        return out

    def close(self) -> None:
        self.b.send("Target.closeTarget", {"targetId": self.target})


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    binary = _chromium()
    if binary is None and os.environ.get("WHOLESOIL_CHROMIUM"):
        pytest.skip(f"WHOLESOIL_CHROMIUM={os.environ['WHOLESOIL_CHROMIUM']} is not an executable; "
                    "the browser check of the report is skipped")
    if binary is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium; "
                    ".ci/browser-deps.sh does it in CI); the browser check of the report is "
                    "skipped")
    b = DevTools(binary, tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield b
    finally:
        b.close()


def _image_check(page: Page) -> list[tuple[str, bool, int]]:
    return page.eval("Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])")


def _column(page: Page, table: int, col: int) -> list[str]:
    return page.eval(
        f"Array.from(document.querySelectorAll('table')[{table}].tBodies[0].rows)"
        f".map(r => r.cells[{col}].textContent)"
    )


def _small_report(folder: Path) -> Path:
    rep = Report("browser check", root=folder)
    for k, name in enumerate(("first", "second")):
        fig = Figure(figsize=(3, 2))
        ax = fig.subplots()
        ax.plot(np.arange(5), np.arange(5) ** (k + 1))
        rep.heading(f"Section {name}")
        rep.parameters({"seed": 42, "depths": [0, 30, 100], "nested": {"a": 1.5}})
        rep.figure(save_figure(fig, folder / "figures" / f"{name}.png"), f"figure {name}")
    rep.heading("Table", level=3)
    df = pd.DataFrame({
        "site": ["b", "c", "a", "d", "e"],
        "value": [10.0, -2.5, np.nan, 100.0, 3.25],
        "n": [3, 1, 2, 5, 4],
    })
    rep.table(df, "sortable table", csv=folder / "t.csv")
    return rep.write(folder / "report.html")


def test_small_report_in_chromium(browser: DevTools, tmp_path: Path) -> None:
    path = _small_report(tmp_path)
    assert external_references(path.read_text(encoding="utf-8")) == []
    page = Page(browser, path)
    try:
        images = _image_check(page)
        assert len(images) == 2
        assert all(complete and width > 0 for _, complete, width in images), images
        # as built
        assert _column(page, 0, 1) == ["10", "-2.5", "–", "100", "3.25"]
        # numeric column: ascending by value, missing last; a second click reverses
        page.click("table.sortable thead th:nth-child(2)")
        assert _column(page, 0, 1) == ["-2.5", "3.25", "10", "100", "–"]
        assert _column(page, 0, 0) == ["c", "e", "b", "d", "a"]
        page.click("table.sortable thead th:nth-child(2)")
        assert _column(page, 0, 1) == ["100", "10", "3.25", "-2.5", "–"]
        # text column
        page.click("table.sortable thead th:nth-child(1)")
        assert _column(page, 0, 0) == ["a", "b", "c", "d", "e"]
        assert page.eval("document.querySelector('th[aria-sort]').textContent") == "site"
        # printing: a folded parameter box unfolds (beforeprint) and a PDF comes out
        page.eval("document.querySelectorAll('details').forEach(d => d.open = false)")
        pdf = base64.b64decode(page.send("Page.printToPDF", {"printBackground": True})["data"])
        assert pdf[:5] == b"%PDF-"
        assert page.eval("Array.from(document.querySelectorAll('details')).every(d => d.open)")
        assert page.problems() == []
    finally:
        page.close()


def test_errors_are_caught(browser: DevTools, tmp_path: Path) -> None:
    """The checks can fail: a broken image, a script error and an outside request are reported."""
    path = tmp_path / "broken.html"
    path.write_text("<!DOCTYPE html><html><head>"
                    "<link rel='stylesheet' href='https://example.invalid/style.css'></head>"
                    "<body><img src='missing.png' alt='gone'>"
                    "<script>undefinedFunction();</script></body></html>")
    page = Page(browser, path)
    try:
        assert _image_check(page) == [["gone", True, 0]]
        found = page.problems()
        assert any("undefinedFunction" in p for p in found), found
        assert any("missing.png" in p for p in found), found
        assert any("outside request: https://example.invalid/style.css" in p for p in found)
    finally:
        page.close()


def test_demo_report_in_chromium(browser: DevTools) -> None:
    """The demo's report (``WHOLESOIL_DEMO_REPORT=path/to/report.html``), if one is given."""
    given = os.environ.get("WHOLESOIL_DEMO_REPORT")
    if not given:
        pytest.skip("set WHOLESOIL_DEMO_REPORT to a demo report.html to check it in Chromium")
    path = Path(given)
    assert path.is_file(), f"WHOLESOIL_DEMO_REPORT={given}: no such file"
    outside = external_references(path.read_text(encoding="utf-8"))
    assert outside == [], f"the demo report loads files from outside itself: {outside[:5]}"
    page = Page(browser, path)
    try:
        images = _image_check(page)
        assert images, "the demo report has no figures"
        broken = [alt for alt, complete, width in images if not (complete and width > 0)]
        assert broken == [], f"figures that did not load: {broken}"
        # every sortable table with two or more rows sorts on its first column
        n_tables = page.eval("document.querySelectorAll('table').length")
        sorted_tables = 0
        for t in range(n_tables):
            if not page.eval(f"(() => {{const t = document.querySelectorAll('table')[{t}];"
                             "return t.classList.contains('sortable') && t.tBodies[0]"
                             " && t.tBodies[0].rows.length > 1;})()"):
                continue
            page.eval(f"document.querySelectorAll('table')[{t}].setAttribute('data-probe', '1')")
            page.click("table[data-probe='1'] thead th")
            page.eval(f"document.querySelectorAll('table')[{t}].removeAttribute('data-probe')")
            ok = page.eval(
                f"(() => {{const t = document.querySelectorAll('table')[{t}];"
                "const th = t.tHead.rows[0].cells[0];"
                "if (th.getAttribute('aria-sort') !== 'ascending') return false;"
                "const num = th.getAttribute('data-type') === 'num';"
                "const ks = Array.from(t.tBodies[0].rows).map(r => num ?"
                " (r.cells[0].getAttribute('data-v') || '') : r.cells[0].textContent)"
                ".filter(k => k !== '');"
                "for (let i = 1; i < ks.length; i++) {"
                " if (num ? parseFloat(ks[i - 1]) > parseFloat(ks[i]) :"
                " ks[i - 1].localeCompare(ks[i], undefined, {numeric: true}) > 0) return false;}"
                "return true;})()"
            )
            assert ok, f"table {t} of the demo report did not sort on its first column"
            sorted_tables += 1
        assert sorted_tables > 0, "the demo report has no sortable table"
        assert page.problems() == []
    finally:
        page.close()
