"""Drive `cockpit serve` in a real browser: Debian's Chromium through Playwright.

Playwright's Python package speaks to the system's Chromium (`executable_path`), so no
browser is downloaded (never run `playwright install`). Without Chromium or Playwright the
tests are skipped, saying why; under COCKPIT_REQUIRE_TOOLS=1 (CI) that is a failure.

What is on the browser's screen is read from xterm.js itself: a script added before the
page's own catches the terminal object textual-serve's page makes (it keeps it in a
`terminal` property) and reads its buffer, row by row, as the person sees it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
SHOTS_ENV = "COCKPIT_BROWSER_SCREENSHOTS"  # =1: the tests also write screenshots/*.png

SCREEN_HOOK = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {
      value, writable: true, configurable: true, enumerable: true,
    });
    if (value && value.buffer && typeof value.open === "function") {
      window.__cockpitTerminal = value;
    }
  },
});
window.__cockpitScreen = () => {
  const t = window.__cockpitTerminal;
  if (!t) return "";
  const b = t.buffer.active;
  const rows = [];
  for (let i = 0; i < t.rows; i++) {
    const line = b.getLine(b.viewportY + i);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
};
"""


def _missing(reason: str) -> None:
    if os.environ.get("COCKPIT_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{reason} (COCKPIT_REQUIRE_TOOLS=1 makes this a failure)")
    pytest.skip(reason)


def chromium_path() -> str:
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if path is None:
        _missing("Chromium is not installed (apt install chromium)")
    assert path is not None
    return path


# per module, not per session: while Playwright's sync API is up, the main thread counts as
# running an event loop, and every asyncio test after it would fail
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Screen:
    """One browser tab on a served cockpit."""

    def __init__(self, browser: Any, *, width: int = 1400, height: int = 860) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.context.add_init_script(SCREEN_HOOK)
        self.page = self.context.new_page()

    def open(self, url: str) -> Any:
        return self.page.goto(url)

    def text(self) -> str:
        return str(
            self.page.evaluate("() => window.__cockpitScreen ? window.__cockpitScreen() : ''")
        )

    def wait_for(self, needle: str, timeout: float = 20.0) -> float:
        """Seconds until `needle` is on the screen (fails with the screen after `timeout`)."""
        start = time.monotonic()
        while needle not in self.text():
            if time.monotonic() - start > timeout:
                raise AssertionError(f"{needle!r} never showed; the screen:\n{self.text()}")
            self.page.wait_for_timeout(50)
        return time.monotonic() - start

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.page.keyboard.press(key)
            self.page.wait_for_timeout(60)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text, delay=10)

    def focus(self) -> None:
        self.page.locator(".xterm-screen").click(position={"x": 5, "y": 5})

    def shoot(self, name: str) -> None:
        """With COCKPIT_BROWSER_SCREENSHOTS=1: the browser's view into screenshots/."""
        if os.environ.get(SHOTS_ENV) == "1":
            self.page.screenshot(path=str(REPO / "screenshots" / f"{name}.png"))

    def close(self) -> None:
        self.context.close()


@dataclass
class Served:
    """A `cockpit serve` process, its link and what it printed."""

    process: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.url.split("/?token=")[0]

    @property
    def sandbox(self) -> str:
        found = re.search(r"the drill range: (http://\S+)", "\n".join(self.lines))
        assert found, self.lines
        return found.group(1)

    def state(self) -> dict[str, Any]:
        return httpx.get(f"{self.sandbox}/_sandbox/state", timeout=5).json()  # type: ignore[no-any-return]

    def children(self) -> list[int]:
        """The app processes it runs (one per session), from /proc."""
        pid = self.process.pid
        try:
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def serve_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    env |= {
        "COCKPIT_CONFIG": str(tmp / "none.toml"),
        "COCKPIT_LOG_DIR": str(tmp / "logs"),
        "COCKPIT_DATA_DIR": str(tmp / "data-unused"),
        "COCKPIT_USER": "ada",
        "COCKPIT_TIMEZONE": "UTC",
    }
    return env


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Start `cockpit serve …` (a real process); stopped (SIGINT, as Ctrl+C) at the end."""
    started: list[Served] = []

    def start(*args: str, options: tuple[str, ...] = ()) -> Served:
        """`cockpit [options] serve --port 0 [args]`."""
        chromium_path()  # no browser: skip (or fail in CI) before starting anything
        process = subprocess.Popen(
            [sys.executable, "-m", "cockpit", *options, "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=serve_env(tmp_path),
            cwd=tmp_path,
        )
        served = Served(process, "")
        started.append(served)
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            served.lines.append(line.rstrip("\n"))
            found = re.search(r"(http://127\.0\.0\.1:\d+/\?token=\S+)", line)
            if found:
                served.url = found.group(1)
            if served.url and "Ctrl+C stops" in line:
                break
        assert served.url, "\n".join(served.lines)
        # the rest of its output (session lines) goes on in a thread, kept for failures
        import threading

        def drain() -> None:
            for rest in process.stdout:  # type: ignore[union-attr]
                served.lines.append(rest.rstrip("\n"))

        threading.Thread(target=drain, daemon=True).start()
        return served

    yield start
    for served in started:
        served.stop()
