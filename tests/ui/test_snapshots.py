"""A snapshot per screen, modal and theme, at a fixed size with a frozen clock."""

from __future__ import annotations

import pytest

from cockpit.ui.screens.main import CockpitScreen
from cockpit.ui.widgets.feed import FeedView

from . import scenes
from .conftest import SIZE, Harness, settle


async def _prepare(pilot, h: Harness, *keys: str) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    await settle(pilot)
    app.screen.query_one(FeedView).add_messages(scenes.feed(h))
    await settle(pilot)
    if keys:
        await pilot.press(*keys)
        await settle(pilot)
    await pilot.wait_for_scheduled_animations()


@pytest.mark.parametrize("theme", ["cockpit-dark", "cockpit-light", "cockpit-contrast"])
def test_main_screen_mid_flight(snap_compare, harness: Harness, theme: str):
    scenes.mid_flight(harness)
    harness.prefs.set("theme", theme)
    app = harness.app()

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _prepare(pilot, harness)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_empty_cockpit(snap_compare, harness: Harness):
    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)

    assert snap_compare(harness.app(), terminal_size=SIZE, run_before=run_before)


def test_drill_badge(snap_compare, harness: Harness):
    scenes.mid_flight(harness)

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _prepare(pilot, harness)

    assert snap_compare(harness.app(drill=True), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize(
    "name,keys",
    [
        ("raise-from-feed", ("1", "up", "up", "up", "up", "up", "up", "up", "up", "up", "up", "r")),
        ("severity", ("S",)),
        ("note", ("n", *"Rolled back; error rate falling", "tab", *"-3m")),
        ("cancel", ("X",)),
        ("roles", ("A",)),
        ("status", ("ctrl+t",)),
        ("switch", ("I",)),
        ("history", ("H",)),
        ("help", ("question_mark",)),
        ("confirm-send", ("4", "s")),
        ("new-draft", ("4", "d")),
        ("palette", ("ctrl+p", *"sev")),
        ("message-detail", ("1", "o")),
        ("filter-prompt", ("1", "slash", *"payments")),
        ("edit-time", ("2", "t")),
    ],
)
def test_modals(snap_compare, harness: Harness, name: str, keys: tuple[str, ...]):
    scenes.mid_flight(harness)

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _prepare(pilot, harness, *keys)
        assert not isinstance(pilot.app.screen, CockpitScreen) or name == "none"

    assert snap_compare(harness.app(), terminal_size=SIZE, run_before=run_before)


def test_handoff_draft(snap_compare, harness: Harness):
    scenes.mid_flight(harness)

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _prepare(pilot, harness, "ctrl+o")
        await settle(pilot)

    assert snap_compare(harness.app(), terminal_size=SIZE, run_before=run_before)


def test_metrics_screen(snap_compare, harness: Harness):
    scenes.history(harness)
    scenes.mid_flight(harness)

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _prepare(pilot, harness, "M")
        await settle(pilot)

    assert snap_compare(harness.app(), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
def test_main_screen_at_small_and_large_sizes(
    snap_compare, harness: Harness, size: tuple[int, int]
):
    scenes.mid_flight(harness)

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _prepare(pilot, harness)

    assert snap_compare(harness.app(), terminal_size=size, run_before=run_before)


def test_raise_dialog_after_a_failed_look(snap_compare, harness: Harness):
    """The look in the report's thread for a teammate's raise failed: the dialog says so."""
    scenes.mid_flight(harness)

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _prepare(pilot, harness)
        screen = pilot.app.screen
        assert isinstance(screen, CockpitScreen)
        screen.action_raise_incident(
            title="Checkout payments failing",
            thread="https://drill.slack.com/archives/C0INCIDENTS/p1765000000000100",
            source="#incidents priya",
            look_problem="Slack answered 502 with an HTML page (a proxy error?)",
        )
        await settle(pilot)
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(harness.app(), terminal_size=SIZE, run_before=run_before)
