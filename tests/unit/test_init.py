"""`cockpit init`: the commented config it writes loads, flags for scripts, the tokens
through the keyring, doctor after, and an existing config kept without --force."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from cockpit.cli import build_parser
from cockpit.config import Paths, load_settings
from cockpit.init import Answers, cmd_init, render_config
from cockpit.integrations.jira.settings import jira_settings
from cockpit.integrations.slack.settings import slack_settings
from cockpit.integrations.statuspage.settings import statuspage_settings
from cockpit.secrets import SERVICE, Secrets
from tests.unit.test_secrets import MemoryBackend

ENV = {"COCKPIT_TIMEZONE": "UTC"}


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    return Paths(tmp_path / "conf" / "config.toml", data, tmp_path / "logs")


def parse(*argv: str) -> argparse.Namespace:
    return build_parser(["init", *argv]).parse_args(["init", *argv])


def run(
    args: argparse.Namespace, paths: Paths, secrets: Secrets, **kw: object
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    stdin = kw.pop("stdin", io.StringIO())
    assert isinstance(stdin, io.StringIO)
    status = cmd_init(args, paths, secrets, stdin, out, err, env=ENV, **kw)  # type: ignore[arg-type]
    return status, out.getvalue(), err.getvalue()


def test_every_answer_loads_and_every_key_is_explained(tmp_path: Path):
    full = Answers(
        user="Ada",
        timezone="Europe/Berlin",
        slack_incidents_channel="#inc",
        jira_url="https://acme.atlassian.net",
        jira_email="ada@acme.example",
        jira_project="OPS",
        statuspage_page_id="pg123",
    )
    for answers in (full, Answers(), Answers(slack=False)):
        text = render_config(answers)
        path = tmp_path / "c.toml"
        path.write_text(text)
        settings = load_settings(path, ENV)
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if "=" in line and not line.startswith("#") and not line.startswith("["):
                # a comment above each key, or in its block (transitions share one)
                assert any(x.startswith("#") for x in lines[max(0, i - 6) : i]), line
    assert settings.configured == frozenset()
    path.write_text(render_config(full))
    settings = load_settings(path, ENV)
    assert settings.configured == {"slack", "jira", "statuspage"}
    assert slack_settings(settings).incidents_channel == "inc"
    assert jira_settings(settings).project == "OPS"
    assert statuspage_settings(settings).page_id == "pg123"
    assert render_config(Answers()).count("# [jira]") == 1  # left out: a commented example


def test_flags_for_scripts_write_the_config_and_run_doctor(paths: Paths):
    secrets = Secrets(MemoryBackend(), env={}, timeout=2.0)
    args = parse(
        "--yes",
        "--slack-incidents-channel",
        "sev",
        "--jira-url",
        "https://acme.atlassian.net",
        "--jira-email",
        "ada@acme.example",
        "--jira-project",
        "OPS",
        "--statuspage-page-id",
        "pg1",
        "--offline",
    )
    status, out, err = run(args, paths, secrets)
    settings = load_settings(paths.config_file, ENV)
    assert settings.configured == {"slack", "jira", "statuspage"}
    assert slack_settings(settings).incidents_channel == "sev"
    assert f"Wrote {paths.config_file}." in out
    assert "cockpit auth set slack; cockpit auth set jira" in out
    assert "cockpit doctor:" in out and "configured, but no token is set" in out
    assert status == 1  # the tokens are not stored yet: doctor says so
    assert paths.config_file.stat().st_mode & 0o077 == 0

    # never overwritten without --force
    paths.config_file.write_text("# mine\n")
    status, out, err = run(parse("--yes", "--no-doctor"), paths, secrets)
    assert status == 1 and "already exists" in err and "--force" in err
    assert paths.config_file.read_text() == "# mine\n"
    status, out, err = run(parse("--yes", "--no-doctor", "--force"), paths, secrets)
    assert status == 0 and "[slack]" in paths.config_file.read_text()


def test_interactive_asks_and_stores_the_tokens(paths: Paths):
    backend = MemoryBackend()
    secrets = Secrets(backend, env={}, timeout=2.0)
    replies = iter(
        ["Ada", "UTC", "", "", "", "https://acme.atlassian.net", "ada@a.example", "OPS", "", "", ""]
    )
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return next(replies)

    tokens = {"slack": "xoxb-1-2-SECRETSLACK", "jira": "ATATT-SECRETJIRA"}

    def getpass(prompt: str) -> str:
        return next((t for name, t in tokens.items() if prompt.startswith(name)), "")

    args = parse("--offline")
    status, out, err = run(args, paths, secrets, stdin=Tty(), input_fn=ask, getpass_fn=getpass)
    assert "Slack channel where incidents are reported [incidents]: " in prompts
    assert backend.store[(SERVICE, "slack")] == tokens["slack"]
    assert backend.store[(SERVICE, "jira")] == tokens["jira"]
    assert "SECRETSLACK" not in out + err and "SECRETJIRA" not in out + err
    settings = load_settings(paths.config_file, ENV)
    assert settings.configured == {"slack", "jira"}
    assert jira_settings(settings).email == "ada@a.example"
    assert "token set; not checked (--offline)" in out
    assert status == 0, out + err


def test_help_and_doctor_without_a_config(paths: Paths, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit):
        build_parser(["--help"]).parse_args(["--help"])
    help_text = capsys.readouterr().out
    assert "Plain `cockpit` (no command) opens the full-screen app" in " ".join(help_text.split())
    assert "cockpit init" in help_text

    from cockpit.doctor import check_config

    c = check_config(None, paths, None)
    assert "not found" in c.detail and "`cockpit init`" in c.hint
