"""The real `cockpit` in a real terminal (tmux): raise, tick, quit, restart, all there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.store.store import Store

from .tmux import Tmux, cockpit_command


@pytest.fixture
def term(tmp_path: Path) -> Iterator[Tmux]:
    t = Tmux(tmp_path)
    yield t
    t.kill()


def env_for(tmp: Path) -> dict[str, str]:
    return {
        "COCKPIT_DATA_DIR": str(tmp / "data"),
        "COCKPIT_CONFIG": str(tmp / "none.toml"),
        "COCKPIT_LOG_DIR": str(tmp / "logs"),
        "COCKPIT_USER": "ada",
        "COCKPIT_TIMEZONE": "UTC",
        "TERM": "xterm-256color",
    }


def test_raise_tick_quit_restart(term: Tmux, tmp_path: Path):
    env = env_for(tmp_path)
    term.start(cockpit_command(), env)
    term.wait_for("no active incident")
    term.keys("R")
    term.wait_for("Raise an incident")
    term.type("Search is down for collectors")
    term.keys("Tab", "Tab")  # past the severity to "first reported"
    term.type("-10m")
    term.keys("C-s")
    term.wait_for("REPORTED  Search is down for collectors")
    term.wait_for("✔ Raise the incident from the report")
    # tick the first open item (the checklist has focus) and another one
    term.keys("Home")
    term.keys("x")
    term.wait_for("✔ Watch #incidents for critical issues")
    term.keys("n")
    term.wait_for("Add a note to the timeline")
    term.type("Search cluster lost two nodes")
    term.keys("Tab")
    term.type("-3m")
    term.keys("C-s")
    term.wait_for("Search cluster lost two nodes")
    term.keys("C-q")
    term.wait_for("COCKPIT-EXITED 0")

    with Store.open(tmp_path / "data") as store:
        [summary] = store.list_incidents()
        assert summary.title == "Search is down for collectors"
        ticks = store.ticks(summary.id)
        assert ticks["watch-incidents"].ticked and ticks["raise-incident"].ticked
        assert any(e.text == "Search cluster lost two nodes" for e in store.timeline(summary.id))

    term.start(cockpit_command(), env)
    screen = term.wait_for("REPORTED  Search is down for collectors")
    term.wait_for("✔ Watch #incidents for critical issues")
    term.wait_for("Search cluster lost two nodes")
    assert "⟲ backdated" in screen
    term.keys("C-q")
    term.wait_for("COCKPIT-EXITED 0")


def test_cli_changes_show_up_in_the_running_app(term: Tmux, tmp_path: Path):
    """Another process (the CLI) writes while the app runs: the app notices."""
    import subprocess
    import sys

    env = env_for(tmp_path)
    term.start(cockpit_command(), env)
    term.wait_for("no active incident")
    import os

    full_env = {**os.environ, **env}
    out = subprocess.run(
        [sys.executable, "-m", "cockpit", "raise", "Login failures", "--severity", "major"],
        env=full_env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "1"
    subprocess.run(
        [sys.executable, "-m", "cockpit", "note", "1", "SSO provider degraded"],
        env=full_env,
        check=True,
        capture_output=True,
    )
    term.wait_for("Login failures", timeout=15)
    term.wait_for("SSO provider degraded", timeout=15)
    term.keys("C-q")
    term.wait_for("COCKPIT-EXITED 0")
