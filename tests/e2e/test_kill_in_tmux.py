"""SIGKILL the running cockpit (in tmux, against a separate drill range) at moments during
an incident, several times: after each restart everything it showed as done is there, and
the outbox finishes its work without doing anything twice."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from cockpit.store.store import Store

from .drill import ours, wait_state
from .test_cockpit_with_sandbox import sandbox  # noqa: F401  (fixture)
from .tmux import Tmux, cockpit_command


def cockpit_pid(term: Tmux) -> int:
    shell = int(term._run("display-message", "-p", "-t", term.session, "#{pane_pid}").strip())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = subprocess.run(["pgrep", "-P", str(shell)], capture_output=True, text=True)
        kids = [int(p) for p in out.stdout.split()]
        for pid in kids:  # `env … python -m cockpit` execs into python
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"cockpit" in cmd:
                return pid
        time.sleep(0.1)
    raise AssertionError("cockpit is not running")


def kill(term: Tmux) -> None:
    os.kill(cockpit_pid(term), signal.SIGKILL)
    term.wait_for("COCKPIT-EXITED 137", timeout=10)
    # a killed full-screen app leaves the terminal in its state: start on a fresh pane
    term._run("respawn-pane", "-k", "-t", term.session, "sh")
    term.wait_gone("COCKPIT-EXITED", timeout=10)


def test_sigkill_during_an_incident(tmp_path: Path, sandbox: int):  # noqa: F811
    base = f"http://127.0.0.1:{sandbox}"
    page = httpx.get(base + "/_sandbox/state").json()["statuspage"]["page_id"]
    (tmp_path / "config.toml").write_text(
        f'[slack]\napi_url = "{base}/api"\n[jira]\nurl = "{base}"\nemail = "oncall@example.com"\n'
        # the drill range's INCIDENT project requires its custom Severity field
        '[jira.severity]\nfield = "customfield_10042"\n'
        'values = { critical = "Critical", major = "Major", minor = "Minor", unset = "Major" }\n'
        f'[statuspage]\napi_url = "{base}/v1"\npage_id = "{page}"\n'
    )
    env = {
        "COCKPIT_CONFIG": str(tmp_path / "config.toml"),
        "COCKPIT_DATA_DIR": str(tmp_path / "data"),
        "COCKPIT_LOG_DIR": str(tmp_path / "logs"),
        "COCKPIT_USER": "ada",
        "COCKPIT_TIMEZONE": "UTC",
        "TERM": "xterm-256color",
        "COCKPIT_SLACK_TOKEN": "xoxb-kill",
        "COCKPIT_JIRA_TOKEN": "jira-kill",
        "COCKPIT_STATUSPAGE_TOKEN": "sp-kill",
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",
    }
    httpx.post(
        f"{base}/api/chat.postMessage",
        headers={"Authorization": "Bearer xoxp-priya"},
        json={"channel": "incidents", "text": "Checkout is failing for many buyers"},
    )
    term = Tmux(tmp_path)
    kills = 0
    try:
        # 1: raise from the report, and kill while the chain is going out
        term.start(cockpit_command(), env)
        term.wait_for("Checkout is failing for many buyers", timeout=30)
        term.keys("1")
        term.wait_for("Raise from msg")
        term.keys("End", "r")
        term.wait_for("Raise an incident")
        time.sleep(0.7)  # opened when the look in its thread ended: no key at once
        term.keys("C-s")
        term.wait_for("REPORTED  Checkout is failing", timeout=20)
        kill(term)
        kills += 1
        # 2..4: restart, tick an item and wait until it shows, then kill at once
        for n in range(3):
            term.start(cockpit_command(), env)
            term.wait_for("REPORTED  Checkout is failing", timeout=30)
            term.keys("3", "Home")
            for _ in range(n):
                term.keys("Down")
            screen_before = term.screen()
            term.keys("x")
            deadline = time.monotonic() + 10
            while term.screen().count("✔") <= screen_before.count("✔"):
                assert time.monotonic() < deadline, term.screen()
                time.sleep(0.05)
            kill(term)
            kills += 1
        with Store.open(tmp_path / "data") as store:
            ticks = store.ticks("1")
            for item in ("watch-incidents", "watch-alerts"):
                assert ticks[item].ticked, item  # shown as done before the kill: kept
        # last: restart and let the outbox finish what was interrupted
        term.start(cockpit_command(), env)
        state = wait_state(
            sandbox,
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
        term.wait_for("Reply in the original thread", timeout=30)
        time.sleep(2)
        state = httpx.get(base + "/_sandbox/state").json()
        assert len(ours(state)) == 1
        assert len([n for n in state["slack"]["channels"] if n.startswith("incident-")]) == 1
        report = next(
            m
            for m in state["slack"]["channels"]["incidents"]["messages"]
            if "Checkout is failing" in m["text"]
        )
        assert len([m for m in report["replies"] if m.get("bot_id")]) == 1
        term.keys("C-q")
        term.wait_for("COCKPIT-EXITED 0", timeout=20)
    finally:
        term.kill()
    assert kills == 4
    for path in (tmp_path / "data").rglob("*.json"):
        assert oct(path.stat().st_mode & 0o777) == "0o600", path
