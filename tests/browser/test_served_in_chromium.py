"""`cockpit serve` in Chromium: the drill's cockpit served as a real process, driven
from the browser's keyboard; the read-only board beside it; the door and its limits.

The figures (page load to first paint, one session's memory) are printed with -s."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from .conftest import Screen, Served, serve_env

PANES = ("1 Feed", "2 Timeline", "3 Checklist", "4 Drafts")
REPORT = "Checkout is failing for a lot of buyers"


def ours(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in state["jira"]["issues"].values() if "cockpit" in i["labels"]]


def wait_state(served: Served, check: Callable[[dict[str, Any]], Any], timeout: float) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = served.state()
        if check(state):
            return state
        time.sleep(0.3)
    raise AssertionError(f"the drill range never got there: issues {ours(state)}")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_the_drill_in_the_browser_raise_from_the_feed_then_the_board(
    browser: Any, serve: Callable[..., Served], tmp_path: Path
):
    drill = tmp_path / "drill"
    served = serve("demo", "--speed", "5", "--data-dir", str(drill))
    assert served.children() == []  # nothing runs before a browser comes
    screen = Screen(browser)
    start = time.monotonic()
    screen.open(served.url)
    for pane in PANES:  # the page loads and the cockpit paints its four panes
        screen.wait_for(pane, timeout=30)
    first_paint = time.monotonic() - start
    assert "token=" not in screen.page.url  # the link's token left the address bar
    assert screen.wait_for("DRILL") >= 0
    [pid] = served.children()
    print(f"\npage load to first paint: {first_paint:.2f} s; one session: {rss_kib(pid)} KiB")

    # raise from the report in the feed, as in the terminal
    screen.focus()
    screen.wait_for(REPORT, timeout=60)
    screen.keys("1", "/")
    screen.wait_for("Filter the feed")
    screen.type("Checkout is failing")
    screen.keys("Control+s")
    screen.wait_for("filter: Checkout is failing")
    screen.keys("1")
    screen.wait_for("Raise from msg")
    screen.keys("End", "r")
    screen.wait_for("Raise an incident")
    time.sleep(0.7)  # opened when the look in its thread ended: it takes no key at once
    screen.keys("Control+s")
    state = wait_state(
        served,
        lambda s: (
            ours(s)
            and any(
                m.get("bot_id")
                for r in s["slack"]["channels"]["incidents"]["messages"]
                for m in r.get("replies", [])
            )
        ),
        timeout=60,
    )
    assert len(ours(state)) == 1  # one ticket, once
    screen.wait_for("REPORTED")
    screen.keys("Escape")
    screen.shoot("browser-cockpit")
    assert [n for n in state["slack"]["channels"] if n.startswith("incident-")]

    # the board, served on the same drill's data, for whoever may watch
    board = serve(
        "--read-only",
        options=("--config", str(drill / "demo-config.toml"), "--data-dir", str(drill / "data")),
    )
    watchers = [Screen(browser, width=1280, height=760) for _ in range(2)]  # several at once
    for w in watchers:
        w.open(board.url)
        w.wait_for("incident board · read-only", timeout=30)
        w.wait_for("REPORTED", timeout=10)
        w.wait_for(REPORT[:30])
    assert len(board.children()) == 2
    watcher = watchers[0]
    watcher.focus()
    incident_file = drill / "data" / "incidents"
    before = sorted((p.name, p.stat().st_mtime_ns) for p in incident_file.iterdir())
    # every key that changes something in the cockpit: said to be read-only, nothing done
    for key in ("R", "S", "Control+t", "X", "A", "n", "x", "Enter", "s", "d", "e", "p", "t"):
        watcher.keys(key)
    watcher.wait_for("read-only")
    assert "Raise an incident" not in watcher.text()
    time.sleep(1.5)
    after = sorted((p.name, p.stat().st_mtime_ns) for p in incident_file.iterdir())
    assert after == before  # the board wrote nothing
    watcher.keys("Escape")
    watcher.page.wait_for_timeout(4500)  # the toasts go
    watcher.shoot("browser-board")

    # a status change made elsewhere (the CLI) shows on every board within 2 s
    iid = _incident_id(drill)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cockpit",
            "--config",
            str(drill / "demo-config.toml"),
            "--data-dir",
            str(drill / "data"),
            "status",
            iid,
            "fixing",
            "--local",
        ],
        check=True,
        env=serve_env(tmp_path),
        capture_output=True,
        timeout=60,
    )
    changed = time.monotonic()
    for w in watchers:
        w.wait_for("FIXING", timeout=max(0.1, 2.0 - (time.monotonic() - changed)))
    for w in watchers:
        w.close()
    screen.close()


def _incident_id(drill: Path) -> str:
    ids = sorted(int(p.stem) for p in (drill / "data" / "incidents").glob("*.json"))
    assert ids, "no incident on disk"
    return str(ids[-1])


def test_the_door_401_without_the_token_and_nothing_runs(
    browser: Any, serve: Callable[..., Served], tmp_path: Path
):
    served = serve("demo", "--speed", "5")
    screen = Screen(browser)
    for url in (served.base + "/", served.base + "/?token=not-the-token"):
        response = screen.open(url)
        assert response.status == 401
        assert "needs the link" in screen.page.content() or "wrong" in screen.page.content()
    # the page's scripts and the session socket are behind the same door
    assert httpx.get(served.base + "/static/js/textual.js").status_code == 401
    assert httpx.get(served.base + "/ws").status_code == 401
    time.sleep(1.0)
    assert served.children() == []  # no app process was started for any of it
    screen.close()


def test_the_session_limit(browser: Any, serve: Callable[..., Served]):
    served = serve("demo", "--speed", "5", "--max-sessions", "1")
    first, second = Screen(browser), Screen(browser)
    first.open(served.url)
    first.wait_for("1 Feed", timeout=30)
    response = second.open(served.url)  # the link works, but the one session is taken
    assert response.status == 503
    assert "the most this server allows" in second.page.content()
    assert len(served.children()) == 1
    first.close()  # the tab goes: its session ends, and the next one may start
    deadline = time.monotonic() + 20
    while served.children() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert served.children() == []
    response = second.open(served.base + "/")
    assert response.status == 200
    second.wait_for("1 Feed", timeout=30)
    second.close()
