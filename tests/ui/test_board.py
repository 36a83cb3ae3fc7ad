"""The read-only board (`cockpit serve --read-only`): what it shows, what it refuses, and
that it follows the store as others write it."""

from __future__ import annotations

import asyncio

from cockpit.domain.drafts import DraftState
from cockpit.domain.incident import Status
from cockpit.ui.screens.board import (
    REFUSED_KEYS,
    BoardScreen,
    BoardSummary,
    BoardTimeline,
    UpdatesPane,
)
from cockpit.web.apps import BoardApp

from . import scenes
from .conftest import SIZE, Harness, settle


def board_text(app: BoardApp) -> str:
    screen = app.screen
    assert isinstance(screen, BoardScreen)
    summary = screen.query_one(BoardSummary).summary().plain
    updates = str(screen.query_one("#updates-text").render())
    return summary + "\n" + updates


async def wait_for(pilot, predicate, seconds: float = 2.0) -> float:  # type: ignore[no-untyped-def]
    """Pause until `predicate()` holds; returns the seconds it took (fails after `seconds`)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not predicate():
        if loop.time() - start > seconds:
            raise AssertionError(f"not within {seconds} s")
        await pilot.pause(0.05)
    return loop.time() - start


def test_board_snapshot(snap_compare, harness: Harness):
    scenes.mid_flight(harness)

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.wait_for_scheduled_animations()

    app = BoardApp(harness.services)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_the_board_shows_the_incident_and_only_what_was_sent(harness: Harness):
    iid = scenes.mid_flight(harness)
    drafts = harness.service.drafts(iid)
    sent = [d for d in drafts if d.state is DraftState.SENT]
    unsent = [d for d in drafts if d.state is not DraftState.SENT]
    assert sent and unsent  # the scene has both: a reply sent, a failed update, a draft
    app = BoardApp(harness.services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = board_text(app)
        assert f"#{iid} " in text and "CRITICAL" in text and "FIXING" in text
        assert "Checkout payments failing for EU buyers" in text
        assert "grace" in text  # communications
        assert "INCIDENT-142" in text and "#incident-142" in text
        pane = app.screen.query_one(UpdatesPane)
        assert [d.id for d in pane.updates] == [d.id for d in sent if d.kind != "internal"]
        for d in unsent:  # a draft not sent is the team's working text: never shown
            assert d.body.strip().splitlines()[0] not in text
        timeline = app.screen.query_one(BoardTimeline)
        assert len(timeline.entries) == len(harness.store.timeline(iid))


async def test_every_key_that_changes_something_is_refused(harness: Harness):
    iid = scenes.mid_flight(harness)
    before = harness.store.data_version(iid)
    record = harness.service.record(iid)
    drafts = harness.service.drafts(iid)
    app = BoardApp(harness.services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for pane in ("1", "2"):  # from either pane
            await pilot.press(pane)
            for key in REFUSED_KEYS:
                await pilot.press(key)
                await settle(pilot)
                assert isinstance(app.screen, BoardScreen), f"{key} opened {app.screen}"
        said = [n.message for n in app._notifications]
        assert any("read-only" in m and "“Raise”" in m for m in said)
        assert any("“Send”" in m for m in said)
    assert harness.store.data_version(iid) == before
    assert harness.service.record(iid) == record
    assert harness.service.drafts(iid) == drafts
    assert harness.prefs.get("incident") is None  # nor what the cockpit opens on


async def test_the_palette_offers_no_cockpit_action(harness: Harness):
    scenes.mid_flight(harness)
    app = BoardApp(harness.services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"raise")
        await settle(pilot)
        from textual.command import CommandPalette

        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await pilot.pause(0.3)
        shown = [str(o.prompt) for o in palette.query_one("CommandList").options]  # type: ignore[attr-defined]
        assert not any("Raise" in s for s in shown)


async def test_the_board_follows_changes_made_elsewhere_within_two_seconds(harness: Harness):
    iid = scenes.mid_flight(harness)
    app = BoardApp(harness.services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "FIXING" in board_text(app)
        # another writer (the cockpit, the CLI) changes the status
        await asyncio.to_thread(harness.service.set_status, iid, Status.MONITORING)
        took = await wait_for(pilot, lambda: "MONITORING" in board_text(app), 2.0)
        assert took < 2.0
        # a newer incident takes the board
        newer = await asyncio.to_thread(harness.service.raise_incident, "Login page times out")
        await wait_for(pilot, lambda: f"#{newer.id} " in board_text(app), 2.0)
        # an incident that ends stays up, marked as ended
        await asyncio.to_thread(harness.service.set_status, newer.id, Status.CANCELED, reason="x")
        await wait_for(pilot, lambda: "CANCELED" in board_text(app), 2.0)
        assert f"#{newer.id} " in board_text(app)
        # i shows the other open one, and stops following
        await pilot.press("i")
        await wait_for(pilot, lambda: f"#{iid} " in board_text(app), 2.0)
        assert not app.screen.following


async def test_remote_text_is_shown_as_text_never_as_markup(harness: Harness):
    iid = harness.raise_incident("[bold red]pwned[/] \x1b[31mred\x1b[0m [link=http://x]y[/link]")
    app = BoardApp(harness.services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = board_text(app)
        assert f"#{iid} " in text
        assert "[bold red]pwned[/]" in text and "[link=http://x]y[/link]" in text
        assert "\x1b" not in text
