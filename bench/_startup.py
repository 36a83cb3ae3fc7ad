"""The child process of the cold-start benchmark (run by bench/run.py, not by hand).

    python bench/_startup.py bare WIDTH HEIGHT
    python bench/_startup.py cockpit WIDTH HEIGHT --data-dir DIR

`bare`: a bare Textual app (Header + Static + Footer). `cockpit`: the real `cockpit`
command (`cockpit.cli.main`, the same path as the console script) on DIR.

Both run headless at WIDTH x HEIGHT: `App.run` is wrapped to pass `headless`, `size` and an
auto-pilot, and `App.post_display_hook` to note the time of every screen update. The first
full paint is the first screen update that shows what the app is for, with the footer's
keys laid out: for the bare app, its Static, and a FooterKey of Textual's Footer (which
fills itself in after the first update); for cockpit, the active incident loaded and put
in the panes (CockpitScreen.record is set in the same handler that fills them), and its
KeyBar (one widget that renders the keys itself) holding keys. The text of that update
is kept, and the auto-pilot checks that it holds what it should (the incident's title,
the checklist, the last timeline entry, the footer), then exits.

Prints one JSON line with CLOCK_MONOTONIC times (the parent took its own just before
starting this process; on Linux the clock is the same in both processes): main (this file
began to run), run (App.run called: imports and wiring done), first (first screen update),
paint (first full paint); displays (screen updates up to the paint), vmhwm (peak RSS in
bytes, read as the process ends), rss_at_run (RSS when App.run was called) and checks
(with COCKPIT_BENCH_SCREEN=1 also the text of the painted screen).
"""

from __future__ import annotations

import time

T_MAIN = time.monotonic()

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from textual.app import App  # noqa: E402

times: dict[str, Any] = {"main": T_MAIN, "first": None, "paint": None, "displays": 0}
checks: dict[str, Any] = {}
painted: list[str] = []


def _ready(app: App[Any]) -> bool:
    """Does this screen update show what the app is for (for cockpit: the active
    incident), footer keys included (the footer fills itself in after the first paint)?"""
    screen = app.screen
    if screen.id == "cockpit":
        if getattr(screen, "record", None) is None:
            return False
    elif not (screen.is_mounted and screen.query("Static")):
        return False
    compositor = screen._compositor
    # Textual's Footer: a FooterKey laid out; cockpit's KeyBar: keys rendered in it
    keys = [*screen.query("FooterKey"), *(b for b in screen.query("KeyBar") if b.spans)]
    return any(key in compositor for key in keys)


_post_display_hook = App.post_display_hook


def post_display_hook(self: App[Any]) -> None:
    now = time.monotonic()
    _post_display_hook(self)
    if times["paint"] is not None:
        return
    times["displays"] += 1
    if times["first"] is None:
        times["first"] = now
    if _ready(self):
        times["paint"] = now
        painted.append(_screen_text(self))  # the screen as painted (after the time is taken)


def _screen_text(app: App[Any]) -> str:
    """The text on screen, line by line (what a terminal would show)."""
    lines = []
    for strip in app.screen._compositor.render_strips():
        lines.append("".join(seg.text for seg in strip))
    return "\n".join(lines)


async def auto_pilot(pilot: Any) -> None:
    app = pilot.app
    deadline = time.monotonic() + 60
    while times["paint"] is None and time.monotonic() < deadline:
        await asyncio.sleep(0.002)
    text = painted[0] if painted else ""
    screen = app.screen
    if screen.id == "cockpit" and screen.record is not None:
        incident = screen.record.incident
        checks["title_on_screen"] = incident.title[:30] in text
        checks["checklist_on_screen"] = "Alert" in text and "Raise" in text
        last = screen.record.timeline[-1].text[:20] if screen.record.timeline else ""
        checks["timeline_on_screen"] = bool(last) and last in text
    else:
        checks["static_on_screen"] = "cold start" in text
    checks["footer_on_screen"] = bool(text.rsplit("\n", 1)[-1].strip())
    checks["lines"] = text.count("\n") + 1
    if os.environ.get("COCKPIT_BENCH_SCREEN"):
        checks["screen"] = text
    app.exit()


_run = App.run


def run(self: App[Any], *args: Any, **kwargs: Any) -> Any:
    times["run"] = time.monotonic()
    times["rss_at_run"] = _status("VmRSS")
    kwargs.update(headless=True, size=SIZE, auto_pilot=auto_pilot)
    return _run(self, *args, **kwargs)


App.post_display_hook = post_display_hook  # type: ignore[method-assign]
App.run = run  # type: ignore[method-assign]


def _status(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_rss() -> int:
    """This process's peak resident set size: VmHWM, the high-water mark of its own address
    space. (ru_maxrss is no good here: Linux carries it over exec from the parent that
    forked us, so every child would report at least the benchmark runner's size.)"""
    return _status("VmHWM")


def bare() -> None:
    from textual.app import ComposeResult
    from textual.widgets import Footer, Header, Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Static("A bare Textual app, the cold start baseline.")
            yield Footer()

    Bare().run()


def cockpit(argv: list[str]) -> int:
    if __package__ in (None, ""):
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from cockpit.cli import main

    return main(argv)


if __name__ == "__main__":
    kind, width, height, *rest = sys.argv[1:]
    SIZE = (int(width), int(height))
    code = 0
    if kind == "bare":
        bare()
    else:
        code = cockpit(rest)
    times["vmhwm"] = peak_rss()
    sys.stdout.write(json.dumps({"kind": kind, "code": code, **times, "checks": checks}) + "\n")
    sys.stdout.flush()
    sys.exit(code)
