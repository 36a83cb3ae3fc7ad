"""The plain `cockpit` (not the demo) configured against `cockpit sandbox` running as its
own process, tokens from the documented environment fallback: the feed is live and
raising an incident opens the ticket and the channel."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import httpx
import pytest

from .drill import free_port, ours, wait_state
from .tmux import Tmux, cockpit_command

# The credentials these tests give cockpit: the drill range refuses any it does not know, as
# the services do, so the scenario brings them (the quiet drill plus its `[[tokens]]`).
E2E_TOKENS = """
[[tokens]]
token = "xoxb-e2e-secret-token"

[[tokens]]
token = "xoxb-hostile-test"

[[tokens]]
token = "xoxb-kill"

[[tokens]]
token = "sp-e2e-secret"
service = "statuspage"

[[tokens]]
token = "sp-kill"
service = "statuspage"
"""


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    quiet = resources.files("cockpit.sandbox").joinpath("scenarios", "quiet.toml").read_text()
    scenario = tmp_path / "quiet-e2e.toml"
    scenario.write_text(quiet + E2E_TOKENS)
    command = [sys.executable, "-m", "cockpit", "sandbox", "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--scenario", str(scenario)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_sandbox/state", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def test_cockpit_against_a_separate_sandbox(tmp_path: Path, sandbox: int):
    base = f"http://127.0.0.1:{sandbox}"
    (tmp_path / "config.toml").write_text(f"""
[slack]
api_url = "{base}/api"
[jira]
url = "{base}"
email = "oncall@example.com"
[jira.severity]  # the drill range's INCIDENT project requires its custom Severity field
field = "customfield_10042"
values = {{ critical = "Critical", major = "Major", minor = "Minor", unset = "Major" }}
[statuspage]
api_url = "{base}/v1"
page_id = "{httpx.get(base + "/_sandbox/state").json()["statuspage"]["page_id"]}"
""")
    env = {
        "COCKPIT_CONFIG": str(tmp_path / "config.toml"),
        "COCKPIT_DATA_DIR": str(tmp_path / "data"),
        "COCKPIT_LOG_DIR": str(tmp_path / "logs"),
        "COCKPIT_USER": "ada",
        "COCKPIT_TIMEZONE": "UTC",
        "TERM": "xterm-256color",
        "COCKPIT_SLACK_TOKEN": "xoxb-e2e-secret-token",
        "COCKPIT_JIRA_TOKEN": "jira-e2e-secret",
        "COCKPIT_STATUSPAGE_TOKEN": "sp-e2e-secret",
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",
    }  # no keyring: env fallback
    term = Tmux(tmp_path)
    try:
        term.start(cockpit_command(), env)
        term.wait_for("no active incident", timeout=30)
        httpx.post(
            f"{base}/api/chat.postMessage",
            headers={"Authorization": "Bearer xoxp-priya"},
            json={"channel": "incidents", "text": "Search returns nothing for anyone"},
        )
        term.wait_for("Search returns nothing for anyone", timeout=30)
        term.keys("1")
        term.wait_for("Raise from msg")
        term.keys("End", "r")
        term.wait_for("Raise an incident")
        time.sleep(0.7)  # opened when the look in its thread ended: no key at once
        term.keys("C-s")
        state = wait_state(
            sandbox,
            lambda s: ours(s) and any(n.startswith("incident-") for n in s["slack"]["channels"]),
            timeout=60,
        )
        assert len(ours(state)) == 1
        term.wait_for("channel #incident-", timeout=30)
        term.keys("C-q")
        term.wait_for("COCKPIT-EXITED 0", timeout=20)
    finally:
        term.kill()
    # no token value anywhere in the data dir or the logs
    for root in (tmp_path / "data", tmp_path / "logs"):
        for path in root.rglob("*"):
            if path.is_file():
                blob = path.read_bytes()
                for secret in (b"xoxb-e2e-secret-token", b"jira-e2e-secret", b"sp-e2e-secret"):
                    assert secret not in blob, (path, secret)
    assert os.path.exists(tmp_path / "data" / "feed")  # the feed went to the cache
