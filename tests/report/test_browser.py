"""Open the HTML report in real headless Chromium over the DevTools protocol.

Chromium is driven through ``--remote-debugging-pipe`` (JSON messages, NUL-separated, on file
descriptors 3 and 4), so no websocket client and no TCP port are needed. Skipped only when no
Chromium binary is installed.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from rlsr_bench.report import write_report

sys.path.insert(0, str(Path(__file__).parent))
from ..report_fixtures import JUDGES, make_agreement_run

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
_BROWSERS = ("chromium", "google-chrome", "chromium-browser")
CHROMIUM = os.environ.get("RLSR_BENCH_CHROMIUM") or next(
    (p for p in (shutil.which(n) for n in _BROWSERS) if p), None
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="no chromium binary (scripts/test-deps.sh installs it)"
    ),
]


def _high_fd(fd: int) -> int:
    """Duplicate ``fd`` to a number >= 10 (close-on-exec) and close the original."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class DevTools:
    """A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe``."""

    def __init__(self, binary: str, profile: Path, timeout: float = 30.0) -> None:
        self.timeout = timeout
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # Move the child's ends above fd 4 so that dup2 onto 3 and 4 never aliases them.
        to_child_r, from_child_w = (_high_fd(fd) for fd in (to_child_r, from_child_w))

        def wire_fds() -> None:  # in the child: its fd 3 reads commands, fd 4 writes replies
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,  # fds 3 and 4 are made inheritable by dup2; the rest are CLOEXEC
            preexec_fn=wire_fds,  # the test process is single-threaded
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def close(self) -> None:
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_child], [], [], left)[0]:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium closed the pipe (exit code {self.proc.poll()})")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def send(self, method: str, session: bool = True, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events arriving meanwhile are kept)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read_message(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression!r} raised {result['exceptionDetails']}")
        return result["result"].get("value")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Load a realistic judge-agreement report (with a hostile response) in Chromium."""
    assert CHROMIUM is not None
    tmp = tmp_path_factory.mktemp("browser")
    report = write_report(make_agreement_run(tmp / "run"))
    browser = DevTools(CHROMIUM, tmp / "profile")
    try:
        target = browser.send("Target.createTarget", session=False, url="about:blank")
        attached = browser.send(
            "Target.attachToTarget", session=False, targetId=target["targetId"], flatten=True
        )
        browser.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable")
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=2000,
            deviceScaleFactor=1,
            mobile=False,
        )
        browser.send("Page.navigate", url=report.as_uri())
        browser.wait_for("Page.loadEventFired")
        yield browser, report
    finally:
        browser.close()


def test_report_loads_without_errors(page: Any) -> None:
    browser, report = page
    assert browser.evaluate("document.readyState") == "complete"
    assert browser.evaluate("document.querySelector('h1').textContent").startswith(
        "rlsr-bench judge-agreement"
    )
    errors = [
        e
        for e in browser.events
        if e.get("method") == "Runtime.exceptionThrown"
        or (
            e.get("method") == "Runtime.consoleAPICalled"
            and e["params"]["type"] in ("error", "assert")
        )
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert errors == []
    # every request stays inside the file (the page itself and data: images)
    urls = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert report.as_uri() in urls
    assert all(u.startswith(("file:", "data:")) for u in urls)
    # every plot decoded and rendered
    assert browser.evaluate(
        "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"
    )


def test_hostile_response_did_not_run(page: Any) -> None:
    browser, _ = page
    assert browser.evaluate("typeof window.__pwned") == "undefined"
    assert "pwned" not in browser.evaluate("document.title")
    assert browser.evaluate("document.querySelectorAll('script').length") == 1
    assert browser.evaluate("document.querySelectorAll('main img[src=x]').length") == 0
    shown = browser.evaluate(
        "document.querySelector('.gallery-judge:not([hidden]) pre.text').parentElement.textContent"
    )
    assert "<script>document.title='pwned'" in shown


def test_leaderboard_rows_and_sorting(page: Any) -> None:
    browser, _ = page
    names = "Array.from(document.querySelectorAll('#leaderboard-table tbody th')).map(th => th.textContent)"
    before = browser.evaluate(names)
    assert sorted(before) == sorted(JUDGES)
    # sort by the judge column (text, ascending on first click), then reverse it
    browser.evaluate("document.querySelector('#leaderboard-table thead th').click()")
    assert browser.evaluate(names) == sorted(JUDGES)
    browser.evaluate("document.querySelector('#leaderboard-table thead th').click()")
    assert browser.evaluate(names) == sorted(JUDGES, reverse=True)
    # FPR (lower is better): first click sorts ascending by the numeric value
    fpr_index = browser.evaluate(
        "Array.from(document.querySelectorAll('#leaderboard-table thead th')).findIndex(th => th.textContent.startsWith('FPR'))"
    )
    browser.evaluate(
        f"document.querySelectorAll('#leaderboard-table thead th')[{fpr_index}].click()"
    )
    values = browser.evaluate(
        f"Array.from(document.querySelectorAll('#leaderboard-table tbody tr')).map(r => Number(r.cells[{fpr_index}].dataset.value))"
    )
    assert values == sorted(values) and len(values) == len(JUDGES)
    assert (
        browser.evaluate(
            f"document.querySelectorAll('#leaderboard-table thead th')[{fpr_index}].getAttribute('aria-sort')"
        )
        == "ascending"
    )


def test_gallery_selector(page: Any) -> None:
    browser, _ = page
    visible = "Array.from(document.querySelectorAll('.gallery-judge')).filter(d => !d.hidden).map(d => d.dataset.judge)"
    assert len(browser.evaluate(visible)) == 1
    browser.evaluate(
        "const s = document.getElementById('gallery-judge'); s.value = 'judge-gamma'; s.dispatchEvent(new Event('change'))"
    )
    assert browser.evaluate(visible) == ["judge-gamma"]


def test_screenshot_artifact(page: Any) -> None:
    browser, _ = page
    shot = browser.send("Page.captureScreenshot", format="png")
    png = base64.b64decode(shot["data"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report-judge-agreement.png").write_bytes(png)
