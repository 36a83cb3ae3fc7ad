"""The one redactor (cockpit/redact.py): the tokens the secrets module loads, is given or
the demo uses, and anything token-shaped, gone from plain text before anything styles it;
the CLI's error messages; the crash note names the log, the demo's too."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from cockpit import redact as redactor
from cockpit.domain.errors import CockpitError
from cockpit.logs import close_logging, crash_note, log_path, setup_logging
from cockpit.redact import REDACTED, redact
from cockpit.secrets import ENV_VARS, Secrets

from .test_secrets import MemoryBackend

JIRA = "ATATT3xFfGF0-not-shaped-jira-token"  # hidden only because it is known
PAGE = "sp-key-plain-words-statuspage"
SLACK = "xoxb-1111-2222-abcdefghijkl9f"


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    redactor.forget_all()
    yield
    redactor.forget_all()


def test_a_token_is_hidden_once_the_secrets_module_has_loaded_it():
    backend = MemoryBackend()
    assert redact(f"jira said {JIRA}") == f"jira said {JIRA}"  # nothing known yet
    s = Secrets(backend, env={})
    s.set("jira", JIRA)  # `cockpit auth set jira`
    assert redact(f"jira said {JIRA}") == f"jira said {REDACTED}"
    redactor.forget_all()
    assert s.get("jira") == JIRA  # loaded from the keyring
    assert JIRA not in redact(f"jira said {JIRA}")


def test_typed_and_environment_tokens_are_hidden():
    s = Secrets(MemoryBackend(), env={ENV_VARS["statuspage"]: PAGE})
    assert PAGE not in redact(f"401 for {PAGE}")  # in the environment: hidden from the start
    s.remember("jira", JIRA)  # typed into the app
    assert redact(f"{JIRA}/{PAGE}") == f"{REDACTED}/{REDACTED}"


def test_the_demo_registers_its_throwaway_tokens(tmp_path: Path, monkeypatch):
    from cockpit import demo

    class Stop(Exception):
        pass

    def stop(*_a: object, **_k: object) -> None:
        raise Stop

    monkeypatch.setattr("cockpit.sandbox.server.SandboxServer.__init__", stop)
    args = demo.argparse.Namespace(scenario="quiet", speed=1.0, port=0, faults=0.0, keep=False)
    with pytest.raises(Stop):
        demo.run_demo(args, data_dir=str(tmp_path), env={})
    for token in demo.DRILL_TOKENS.values():
        assert redact(f"said {token}.") == f"said {REDACTED}."
    assert redact("alice@drill-range.example") == "alice@drill-range.example"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer xyz123456789", "Authorization: Bearer [redacted]"),
        ("Authorization: Basic dXNlcjpwYXNzMTIz", "Authorization: Basic [redacted]"),
        ("Authorization: OAuth 0a1b2c3d4e5f", "Authorization: OAuth [redacted]"),
        ("xoxb-123-456-abc and xapp-1-A2-3", "[redacted] and [redacted]"),
        ("wss://x/link?ticket=abc-123&app=1", "wss://x/link?ticket=[redacted]&app=1"),
        ("key 0123456789abcdef0123456789abcdef here", "key [redacted] here"),
        ("key QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MTIzNDU2Nzg5 x", "key [redacted] x"),
    ],
)
def test_token_shapes_are_hidden_unknown(text: str, expected: str):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'File "/work/main/.venv/lib/python3.12/site-packages/textual/app.py", line 3',
        "test_a_crash_shows_no_locals_and_no_token_even_with_a_long_name",
        "/home/User1/projects/cockpitRepo/cockpit/ui/screens/mainScreen2",
        "incident #12 at 1699999999.000001",
        "abc",  # too short to be a secret, even when registered
    ],
)
def test_ordinary_text_is_left_alone(text: str):
    redactor.remember("abc")
    assert redact(text) == text


def test_a_token_split_by_colour_codes_cannot_survive(tmp_path: Path):
    """The redactor runs on the plain text, before styling: the crash report, a toast and
    a log line strip control sequences first, then redact; nothing redacts styled text."""
    from cockpit.domain.sanitize import sanitize

    redactor.remember(JIRA)
    split = JIRA[:8] + "\x1b[31m" + JIRA[8:16] + "\x1b[0m" + JIRA[16:]
    assert JIRA not in redact(sanitize(f"boom {split}"))
    assert REDACTED in redact(sanitize(f"boom {split}"))
    # Styling after redaction: Rich's coloured output of the redacted plain text keeps
    # the marker whole, and cannot bring the token back.
    console = Console(file=io.StringIO(), force_terminal=True, color_system="truecolor")
    with console.capture() as capture:
        console.print(Text(redact(f"RuntimeError: {JIRA} at 0x7f"), style="red"))
    coloured = capture.get()
    assert "\x1b[" in coloured and JIRA not in coloured and REDACTED in coloured
    # the log filter strips the escape codes before it redacts
    path = setup_logging(tmp_path, secrets_values=list)
    try:
        logging.getLogger("cockpit.test").warning("remote said %s", split)
        for handler in logging.getLogger().handlers:
            handler.flush()
        text = path.read_text()
    finally:
        close_logging()
    assert JIRA not in text and "remote said [redacted]" in text


def test_the_cli_never_prints_a_token_in_an_error(tmp_path: Path, monkeypatch, capsys):
    from cockpit import cli

    for key in [k for k in os.environ if k.startswith("COCKPIT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COCKPIT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("COCKPIT_LOG_DIR", str(tmp_path / "logs"))
    Secrets(MemoryBackend(), env={}).set("jira", JIRA)

    def refuse(ctx: object) -> int:
        raise CockpitError(f"Jira refused the token {JIRA} (and {SLACK})")

    def bad_value(ctx: object) -> int:
        raise ValueError(f"not a date: {JIRA}")

    monkeypatch.setattr(cli, "cmd_list", refuse)
    assert cli.main(["list"]) == 1
    err = capsys.readouterr().err
    assert "Jira refused the token [redacted] (and [redacted])" in err
    assert JIRA not in err and SLACK not in err
    monkeypatch.setattr(cli, "cmd_list", bad_value)
    assert cli.main(["list"]) == 2
    err = capsys.readouterr().err
    assert "not a date: [redacted]" in err and JIRA not in err
    close_logging()


def test_the_crash_note_names_the_log_or_says_there_is_none(tmp_path: Path):
    close_logging()
    assert log_path() is None
    assert "No log was written" in crash_note()
    path = setup_logging(tmp_path / "logs", secrets_values=list)
    try:
        assert log_path() == path
        assert str(path) in crash_note() and "cockpit crashed" in crash_note()
    finally:
        close_logging()


def test_the_demo_logs_into_its_data_dir_and_a_crash_names_that_log(tmp_path: Path):
    from cockpit import demo

    path = demo.start_logging(tmp_path)
    try:
        assert path == tmp_path / demo.LOG_DIR / "cockpit.log" and path.exists()
        assert f"The details are in the log:\n{path}" in crash_note()
    finally:
        close_logging()


def test_cockpit_exits_1_after_a_crash(tmp_path: Path, monkeypatch):
    from cockpit import cli
    from cockpit.ui.app import CockpitApp

    for key in [k for k in os.environ if k.startswith("COCKPIT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COCKPIT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("COCKPIT_LOG_DIR", str(tmp_path / "logs"))

    def crashed(self: CockpitApp) -> None:  # as Textual leaves an app that crashed
        self._exception = RuntimeError("boom")
        self._return_code = 1

    monkeypatch.setattr(CockpitApp, "run", crashed)
    try:
        assert cli.main([]) == 1
        monkeypatch.setattr(CockpitApp, "run", lambda self: None)  # a plain quit
        assert cli.main([]) == 0
    finally:
        close_logging()


def test_cockpit_demo_exits_1_after_a_crash_and_keeps_its_log(monkeypatch, capsys):
    import shutil

    from cockpit import demo
    from cockpit.ui.app import CockpitApp

    def crashed(self: CockpitApp) -> None:
        logging.getLogger("cockpit.ui").critical("cockpit crashed:\n%s", crash_note())
        self._exception = RuntimeError("boom")
        self._return_code = 1

    monkeypatch.setattr(CockpitApp, "run", crashed)
    args = demo.argparse.Namespace(scenario="quiet", speed=1.0, port=0, faults=0.0, keep=False)
    assert demo.run_demo(args, data_dir=None, env={}) == 1
    out = capsys.readouterr().out
    root = Path(out.split("The drill's data is kept in ", 1)[1].strip())
    try:
        log = (root / demo.LOG_DIR / "cockpit.log").read_text()
        assert f"The details are in the log:\n{root / demo.LOG_DIR / 'cockpit.log'}" in log
        assert "Debrief" not in out
    finally:
        shutil.rmtree(root, ignore_errors=True)
