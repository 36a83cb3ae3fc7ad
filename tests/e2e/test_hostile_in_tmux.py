"""Hostile Slack messages reach a real cockpit in a real terminal (tmux): they are shown
literally, and none of their control sequences reaches the terminal: no clipboard write
(OSC 52), no window title (OSC 0/2), no cleared screen, no bidi reordering."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from .test_cockpit_with_sandbox import sandbox  # noqa: F401  (fixture)
from .tmux import Tmux, cockpit_command

HOSTILE = [
    "clip\x1b]52;c;cm0gLXJmIH4=\x07board",  # OSC 52: would put "rm -rf ~" in the clipboard
    "title\x1b]2;PWNED\x07bar",  # OSC 2: window title
    "wipe\x1b[2J\x1b[Hout",  # clear the screen, cursor home
    "[@click=app.quit]click me[/] [b]bold?[/b] [/x]",  # markup, literal
    "abc\u202eevil\u202c",  # bidi override
    "zero\u200b\u200b\u200b\u200bwidth" + "\u200b" * 2000,  # a zero-width flood
    "Z" + "\u0301" * 3000 + "algo",  # a combining flood
    "fire 👩‍🚒👨‍👩‍👧‍👦🏳️‍🌈 team",  # emoji sequences
    "big " + "x" * 39_000,  # ~40 KB in one message (Slack's limit is 40,000 characters)
    "tall\n" + "\n".join("." for _ in range(10_000)),  # 10,000 lines
    "lone \ud800 surrogate",  # sent as a JSON escape, as a broken API might
]


def test_hostile_messages_are_literal_and_inert(tmp_path: Path, sandbox: int):  # noqa: F811
    base = f"http://127.0.0.1:{sandbox}"
    (tmp_path / "config.toml").write_text(f'[slack]\napi_url = "{base}/api"\n')
    env = {
        "COCKPIT_CONFIG": str(tmp_path / "config.toml"),
        "COCKPIT_DATA_DIR": str(tmp_path / "data"),
        "COCKPIT_LOG_DIR": str(tmp_path / "logs"),
        "COCKPIT_USER": "ada",
        "COCKPIT_TIMEZONE": "UTC",
        "TERM": "xterm-256color",
        "COCKPIT_SLACK_TOKEN": "xoxb-hostile-test",
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",
    }
    term = Tmux(tmp_path)
    try:
        term.start(["true"], {})  # a session to configure first
        term._run("set-option", "-s", "set-clipboard", "on")
        term._run("set-option", "-g", "allow-rename", "on")
        term._run("set-option", "-g", "set-titles", "on")
        term._run("set-buffer", "untouched")
        term.start(cockpit_command(), env)
        term.wait_for("no active incident", timeout=30)
        for text in HOSTILE:
            body = json.dumps({"channel": "incidents", "text": text})  # \ud800 stays escaped
            while True:  # Slack takes about one message a second in a channel: a 429 waits
                answer = httpx.post(
                    f"{base}/api/chat.postMessage",
                    content=body.encode(),
                    headers={
                        "Authorization": "Bearer xoxp-trainer",  # a person of the workspace
                        "Content-Type": "application/json",
                    },
                )
                if answer.status_code != 429:
                    break
                time.sleep(float(answer.headers["Retry-After"]))
            assert answer.json()["ok"], answer.text
        screen = term.wait_for("clipboard", timeout=30)
        deadline = time.monotonic() + 20
        while "abcevil" not in screen and time.monotonic() < deadline:
            time.sleep(0.3)
            screen = term.screen()
        assert "clipboard" in screen and "titlebar" in screen and "wipeout" in screen
        assert "[@click=app.quit]click me[/] [b]bold?[/b] [/x]" in screen
        assert "abcevil" in screen  # the override is gone, the letters stay in order
        deadline = time.monotonic() + 20
        while "surrogate" not in screen and time.monotonic() < deadline:
            time.sleep(0.3)
            screen = term.screen()
        assert "zerowidth" in screen  # the flood does not push the rest off the line
        assert "Z\u0301algo" in screen  # one combining mark kept per letter on screen
        assert "fire" in screen and "team" in screen
        assert "big xxxx" in screen and "tall" in screen and "+10000 lines" in screen
        assert "lone" in screen and "surrogate" in screen
        # every row of the layout still ends where it should: no pane border pushed aside
        rows = screen.splitlines()
        assert all(row.endswith(("│", "╮", "╯", "╯")) for row in rows[1:-1] if row.strip())
        assert "cockpit" in screen.splitlines()[0]  # the screen was not wiped
        # nothing reached the terminal: tmux's buffer and the pane's title are untouched
        assert term._run("show-buffer").strip() == "untouched"
        assert "PWNED" not in term._run("display-message", "-p", "#{pane_title}")
        assert "\x1b]" not in term.raw_screen()
        term.keys("C-q")
        term.wait_for("COCKPIT-EXITED 0", timeout=20)
    finally:
        term.kill()
