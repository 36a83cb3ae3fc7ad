"""Logging: a private rotating file, and no token in it, whichever way it was logged."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest

from cockpit.logs import (
    LOG_FILE,
    RedactingFilter,
    close_logging,
    redacting_filter,
    setup_logging,
)

TOKEN = "ghp-not-shaped-like-anything-8c1d"  # matched only because it is registered
SLACK = "xoxb-9999-8888-zyxwvutsrqpo"  # matched by its shape, never registered


@pytest.fixture
def known() -> list[str]:
    return [TOKEN]


@pytest.fixture
def log_file(tmp_path: Path, known: list[str]) -> Iterator[Path]:
    path = setup_logging(tmp_path / "logs" / "deep", secrets_values=lambda: known)
    yield path
    close_logging()


def _text(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_log_dir_0700_and_file_0600(tmp_path: Path, log_file: Path):
    assert log_file == tmp_path / "logs" / "deep" / LOG_FILE
    assert stat.S_IMODE(log_file.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    logging.getLogger("cockpit.test").info("hello")
    assert "INFO" in _text(log_file) and "cockpit.test: hello" in _text(log_file)


def test_perms_hold_under_a_permissive_umask_and_across_rotation(tmp_path: Path):
    old = os.umask(0)
    try:
        path = setup_logging(tmp_path / "l", secrets_values=list)
        handler = next(
            h for h in logging.getLogger().handlers if isinstance(h, RotatingFileHandler)
        )
        log = logging.getLogger("cockpit.rot")
        log.info("before rotation")
        handler.doRollover()
        log.info("after rotation")
        assert sorted(p.name for p in path.parent.iterdir()) == ["cockpit.log", "cockpit.log.1"]
        for p in path.parent.iterdir():
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert "after rotation" in _text(path)
    finally:
        os.umask(old)
        close_logging()


def test_close_logging_restores_levels(tmp_path: Path):
    before = logging.getLogger("cockpit").level, logging.getLogger("httpx").level
    setup_logging(tmp_path, secrets_values=list, level=logging.DEBUG)
    assert logging.getLogger("cockpit").level == logging.DEBUG
    close_logging()
    assert (logging.getLogger("cockpit").level, logging.getLogger("httpx").level) == before
    assert not any(isinstance(h, RotatingFileHandler) for h in logging.getLogger().handlers)


def test_setup_twice_keeps_one_handler(tmp_path: Path, log_file: Path):
    setup_logging(log_file.parent, secrets_values=list)
    setup_logging(log_file.parent, secrets_values=list)
    logging.getLogger("cockpit.twice").warning("once")
    assert _text(log_file).count("once") == 1


def test_registered_and_shaped_tokens_are_redacted_in_the_message(log_file: Path):
    log = logging.getLogger("cockpit.test")
    log.info(f"token {TOKEN} and {SLACK} inline")
    text = _text(log_file)
    assert TOKEN not in text and SLACK not in text
    assert text.count("[redacted]") == 2 and "inline" in text


def test_tokens_in_args_are_redacted(log_file: Path):
    log = logging.getLogger("cockpit.test")
    log.warning("headers %s, body %r, n=%d", {"Authorization": f"Bearer {TOKEN}"}, SLACK, 3)
    log.warning("%(who)s sent %(what)s", {"who": "alice", "what": TOKEN})
    text = _text(log_file)
    assert TOKEN not in text and SLACK not in text
    assert "n=3" in text and "alice sent [redacted]" in text


def test_tokens_in_exceptions_are_redacted(log_file: Path):
    log = logging.getLogger("cockpit.test")
    try:
        try:
            raise ValueError(f"inner {SLACK}")
        except ValueError as inner:
            raise RuntimeError(f"outer {TOKEN}") from inner
    except RuntimeError:
        log.exception("the call failed")
    log.error("again", exc_info=RuntimeError(f"x {TOKEN}"))
    log.info("stack", stack_info=True)
    text = _text(log_file)
    assert "Traceback" in text and "RuntimeError: outer [redacted]" in text
    assert "ValueError: inner [redacted]" in text
    assert TOKEN not in text and SLACK not in text


def test_tokens_registered_later_are_redacted(log_file: Path, known: list[str]):
    later = "typed-into-the-app-77aa"
    known.append(later)
    f = redacting_filter()
    assert f is not None
    f.add("derived-basic-credential-0042")
    logging.getLogger("cockpit.test").error("%s / %s", later, "derived-basic-credential-0042")
    text = _text(log_file)
    assert later not in text and "derived-basic-credential-0042" not in text


def test_third_party_records_are_redacted_too(log_file: Path):
    logging.getLogger("some.library").warning("sent Authorization: Bearer %s", TOKEN)
    text = _text(log_file)
    assert "some.library" in text and TOKEN not in text


def test_control_characters_are_stripped(log_file: Path):
    logging.getLogger("cockpit.test").warning("title \x1b]0;pwned\x07 done")
    text = _text(log_file)
    assert "\x1b" not in text and "\x07" not in text and "done" in text


def test_filter_survives_a_broken_source_and_bad_args():
    def broken() -> list[str]:
        raise RuntimeError("no")

    f = RedactingFilter(broken)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s %s", (SLACK,), None)
    assert f.filter(record) is True
    assert SLACK not in record.getMessage()


def test_a_token_the_secrets_module_loaded_is_redacted_without_being_passed(tmp_path: Path):
    """The filter uses the one redactor: a token registered by `Secrets` (here, from the
    environment) is hidden even when `secrets_values` does not list it."""
    from cockpit import redact as redactor
    from cockpit.secrets import ENV_VARS, Secrets

    token = "plain-words-jira-token-77"
    redactor.forget_all()
    path = setup_logging(tmp_path, secrets_values=list)
    try:
        assert Secrets(env={ENV_VARS["jira"]: token}).env_token("jira") == token
        logging.getLogger("cockpit.test").error("jira said %s", token)
        text = _text(path)
    finally:
        close_logging()
        redactor.forget_all()
    assert "jira said [redacted]" in text and token not in text
