"""Drive the real `cockpit` in a real terminal: tmux with its own server socket."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest


def require_tmux() -> str:
    path = shutil.which("tmux")
    if path is None:
        if os.environ.get("COCKPIT_REQUIRE_TOOLS") == "1":
            pytest.fail("tmux is required here (COCKPIT_REQUIRE_TOOLS=1) but is not installed")
        pytest.skip("tmux is not installed (apt install tmux)")
    return path


class Tmux:
    def __init__(self, tmp: Path, *, width: int = 160, height: int = 45) -> None:
        self.tmux = require_tmux()
        self.socket = f"cockpit-e2e-{uuid.uuid4().hex[:8]}"
        self.width, self.height = width, height
        self.tmp = tmp
        self.session = "e2e"
        self.target = self.session  # what keys go to and what is captured: a pane's id
        self._started = False

    def _run(self, *args: str, check: bool = True) -> str:
        out = subprocess.run(
            [self.tmux, "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=20,
        )
        if check and out.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {out.stderr}")
        return out.stdout

    def start(self, command: list[str], env: dict[str, str]) -> None:
        """Run `command` in a fresh session; when it exits the pane stays for inspection."""
        exports = " ".join(f"{k}={_quote(v)}" for k, v in env.items())
        argv = " ".join(_quote(c) for c in command)
        # COLUMNS/LINES from the test runner would override the terminal's real size
        line = f"env -u COLUMNS -u LINES {exports} {argv}; echo COCKPIT-EXITED $?"
        if not self._started:
            self._run(
                "new-session",
                "-d",
                "-s",
                self.session,
                "-x",
                str(self.width),
                "-y",
                str(self.height),
                "sh",
            )
            self._run("set-option", "-g", "remain-on-exit", "on")
            self._started = True
        self.send_literal(line)
        self.keys("Enter")

    def send_literal(self, text: str) -> None:
        self._run("send-keys", "-t", self.target, "-l", "--", text)

    def keys(self, *keys: str) -> None:
        for k in keys:
            self._run("send-keys", "-t", self.target, k)
            # an ESC followed at once by a key reads as alt+key in any terminal
            time.sleep(0.4 if k.lower() in ("escape", "esc") else 0.05)

    def type(self, text: str) -> None:
        self.send_literal(text)

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-t", self.target)

    def raw_screen(self) -> str:
        """The pane with escape sequences (-e): what reached the terminal, styled."""
        return self._run("capture-pane", "-p", "-e", "-t", self.target)

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} did not appear within {timeout} s; screen:\n{screen}")

    def wait_gone(self, text: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text not in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} still on screen after {timeout} s:\n{screen}")

    def panes(self) -> list[str]:
        """The panes of the session's window, by id (%N), top-left first."""
        out = self._run("list-panes", "-t", self.session, "-F", "#{pane_id}")
        return out.split()

    def pane(self, pane_id: str) -> Tmux:
        """This terminal seen through one of its panes: keys go there, its screen is read."""
        view = copy.copy(self)
        view.target = pane_id
        return view

    def pane_pid(self) -> int:
        """The pid of the process the pane runs (its shell)."""
        return int(self._run("display-message", "-p", "-t", self.target, "#{pane_pid}"))

    def respawn(self, command: list[str], env: dict[str, str]) -> None:
        """Run `command` again in this (ended) pane, as `start` does in the first."""
        exports = " ".join(f"{k}={_quote(v)}" for k, v in env.items())
        argv = " ".join(_quote(c) for c in command)
        line = f"env -u COLUMNS -u LINES {exports} {argv}; echo COCKPIT-EXITED $?; sleep 3600"
        self._run("respawn-pane", "-k", "-t", self.target, line)

    def kill(self) -> None:
        self._run("kill-server", check=False)


def _quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


def cockpit_command() -> list[str]:
    return [sys.executable, "-m", "cockpit"]
