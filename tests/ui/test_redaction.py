"""No token on screen, in the log or in a crash report, and a crash is honest: a token set
through the secrets module, echoed in a failing store call's error or in a crash's
exception, is redacted everywhere; the app's exit status after a crash is 1, and the
report names the log."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.content import Content

from cockpit import redact as redactor
from cockpit.domain.errors import CockpitError
from cockpit.logs import close_logging, setup_logging
from cockpit.secrets import Secrets
from cockpit.ui.screens.main import CockpitScreen

from ..unit.test_secrets import MemoryBackend
from .conftest import SIZE, Harness, settle

JIRA = "ATATT3xFfGF0-plain-jira-token-value"  # hidden only because it is known
PAGE = "statuspage-key-in-plain-words"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    redactor.forget_all()
    secrets = Secrets(MemoryBackend(), env={})
    secrets.set("jira", JIRA)  # `cockpit auth set jira`
    secrets.remember("statuspage", PAGE)  # typed into the app
    path = setup_logging(tmp_path / "logs", secrets_values=list)
    yield path
    close_logging()
    redactor.forget_all()


def _log(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def _toasts(app) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(f"{n.title}: {n.message}" for n in app._notifications)


async def test_a_failing_store_call_never_shows_the_token(
    harness: Harness, log_file: Path, monkeypatch
):
    harness.raise_incident()
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        def refuse(*_a: object, **_k: object) -> None:
            raise CockpitError(f"Jira refused {JIRA} and Statuspage {PAGE}")

        monkeypatch.setattr(harness.service, "tick", refuse)
        await pilot.press("x")
        await settle(pilot)

        def bug(*_a: object, **_k: object) -> None:  # not a refusal: "something went wrong"
            raise RuntimeError(f"bug near {JIRA}")

        monkeypatch.setattr(harness.service, "tick", bug)
        await pilot.press("x")
        await settle(pilot)
        # a markup toast: the marker is shown literally, the token is not
        app.notify(f"[b]Jira[/b] said {JIRA}", title=f"from {PAGE}")
        await pilot.pause()
        toasts = _toasts(app)
        assert "Jira refused [redacted] and Statuspage [redacted]" in toasts
        assert "RuntimeError: bug near [redacted]" in toasts
        assert "from [redacted]" in toasts and "said \\[redacted]" in toasts
        assert JIRA not in toasts and PAGE not in toasts
        marked = [n for n in app._notifications if n.markup]
        shown = Content.from_markup(marked[-1].message).plain  # as the toast draws it
        assert shown == "Jira said [redacted]"
    log = _log(log_file)
    assert "bug near [redacted]" in log and JIRA not in log and PAGE not in log


async def crash(app: Any, error: BaseException) -> list[object]:
    """Run `app`, raise `error` from a screen action, and return what would be printed on
    the terminal after the crash (the exit renderables)."""

    def boom(self: CockpitScreen) -> None:
        raise error

    kept: list[object] = []

    def keep() -> None:
        kept.extend(app._exit_renderables)
        app._exit_renderables.clear()

    app._print_error_renderables = keep
    CockpitScreen.action_boom = boom  # type: ignore[attr-defined]
    try:
        with pytest.raises(type(error)):
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                app.screen.call_later(app.screen.action_boom)
                await pilot.pause()
                await pilot.pause()
    finally:
        del CockpitScreen.action_boom  # type: ignore[attr-defined]
    return kept


async def test_a_crash_is_redacted_exits_1_and_names_the_log(harness: Harness, log_file: Path):
    app = harness.app()
    kept = await crash(app, RuntimeError(f"the Jira client held {JIRA}, Statuspage {PAGE}"))
    assert kept, "the crash report is printed"
    # what reaches the terminal, coloured as a real one would print it
    console = Console(
        file=io.StringIO(), force_terminal=True, color_system="truecolor", width=300, record=True
    )
    for renderable in kept:
        console.print(renderable)
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    plain = console.export_text()
    assert "\x1b[" in printed
    assert "the Jira client held [redacted], Statuspage [redacted]" in plain
    assert JIRA not in printed and PAGE not in printed
    assert f"The details are in the log:\n{log_file}\n" in plain
    assert app.return_code == 1 and app.exit_status() == 1
    log = _log(log_file)
    assert "cockpit crashed" in log and "held [redacted]" in log
    assert JIRA not in log and PAGE not in log


async def test_an_exception_that_renders_itself_is_redacted_too(harness: Harness, log_file: Path):
    """Textual prints an exception with `__rich__` through its own panic screen; cockpit's
    crash report takes every exception, so the token is removed there as well."""
    app = harness.app()

    class Rendering(Exception):
        def __rich__(self) -> str:
            return f"rendered with {JIRA}"

    kept = await crash(app, Rendering(f"held {JIRA}"))
    console = Console(file=io.StringIO(), force_terminal=True, width=300, record=True)
    for renderable in kept:
        console.print(renderable)
    plain = console.export_text()
    assert "held [redacted]" in plain and JIRA not in plain
    assert app.return_code == 1
