"""Safe under any keystroke, and help where you are: nothing remote without a deliberate
confirm, typed text never lost, long text readable, the keys of where the focus is, lists
that follow, small terminals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.config import load_settings
from cockpit.domain.incident import Status
from cockpit.sandbox.server import SandboxServer
from cockpit.ui.dialogs.send import ConfirmSend
from cockpit.ui.screens.main import CockpitScreen
from cockpit.ui.widgets.panes import ChecklistPane

from . import scenes
from .conftest import SIZE, Harness, settle

TOKENS = {"slack": "xoxb-ui", "jira": "jira-ui", "statuspage": "sp-ui"}


@pytest.fixture
def connected(tmp_path: Path) -> Iterator[Harness]:
    """Slack and Jira configured (the drill range behind them), the clock frozen."""
    with SandboxServer(port=0, scenario="quiet", seed=3) as server:
        config = tmp_path / "config.toml"
        config.write_text(
            "[slack]\nsocket_mode = false\n" + server.config_snippet().split("\n", 1)[1]
        )
        settings = load_settings(config, {"COCKPIT_USER": "ada", "COCKPIT_TIMEZONE": "UTC"})
        h = Harness(tmp_path, settings, token=TOKENS.get)
        yield h
        h.store.close()


async def calm(pilot) -> None:  # type: ignore[no-untyped-def]
    """`settle` for an app with its remote side running (its worker never completes)."""
    for _ in range(3):
        await pilot.app.store_settled()
        await pilot.pause(0.1)


def item_view(app, item_id: str):  # type: ignore[no-untyped-def]
    pane = app.screen.query_one(ChecklistPane)
    return pane._items[item_id]


# -- 1. nothing remote without a deliberate confirm -------------------------------------------
async def test_a_checklist_item_that_sends_asks_first(connected: Harness):
    h = connected
    assert {"jira", "slack"} <= h.settings.configured
    iid = scenes.mid_flight(h)
    app = h.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await calm(pilot)
        screen = app.screen
        assert isinstance(screen, CockpitScreen)
        screen.run_requested(ChecklistPane.RunRequested(item_view(app, "mark-monitoring")))
        await calm(pilot)
        assert isinstance(app.screen, ConfirmSend)
        shown = str(app.screen.body_text)
        assert "Mark MONITORING in Jira" in shown
        assert h.service.get(iid).status is Status.FIXING
        await pilot.press("enter")  # a stray enter does not send
        await pilot.press("escape")
        await calm(pilot)
        assert isinstance(app.screen, CockpitScreen)
        assert h.service.get(iid).status is Status.FIXING
        assert h.services.actions.outbox(iid) == []
        screen.run_requested(ChecklistPane.RunRequested(item_view(app, "mark-monitoring")))
        await calm(pilot)
        await pilot.press("ctrl+s")
        await calm(pilot)
        assert h.service.get(iid).status is Status.MONITORING
        assert [i.title for i in h.services.actions.outbox(iid)][:1] == ["Mark MONITORING in Jira"]


async def test_a_status_change_and_a_cancel_ask_first(connected: Harness):
    h = connected
    iid = scenes.mid_flight(h)
    app = h.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await calm(pilot)
        await pilot.press("X", *"false alarm", "ctrl+s")
        await calm(pilot)
        assert isinstance(app.screen, ConfirmSend)
        assert "Kind reply in the thread" in app.screen.body_text
        await pilot.press("escape")
        await calm(pilot)
        assert h.service.get(iid).status is Status.FIXING


async def test_nothing_configured_needs_no_confirm(harness: Harness):
    iid = scenes.mid_flight(harness)
    app = harness.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.run_requested(ChecklistPane.RunRequested(item_view(app, "mark-monitoring")))  # type: ignore[attr-defined]
        await settle(pilot)
        assert isinstance(app.screen, CockpitScreen)
        assert harness.service.get(iid).status is Status.MONITORING


# -- 2. typed input is never lost; toasts never cover the focused editor or preview ---------
async def test_escape_in_the_editor_asks_before_dropping_a_change(harness: Harness):
    from textual.widgets import TextArea

    from cockpit.ui.dialogs.message import AskDrop
    from cockpit.ui.widgets.drafts import DraftsPane

    iid = scenes.mid_flight(harness)
    app = harness.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4", "e")
        await settle(pilot)
        pane = app.screen.query_one(DraftsPane)
        assert pane.editing is not None
        await pilot.press("escape")  # nothing typed: closes at once
        await settle(pilot)
        assert pane.editing is None and isinstance(app.screen, CockpitScreen)
        await pilot.press("e", *"typed with care")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AskDrop)
        await pilot.press("escape")  # back to the editor, the text kept
        await settle(pilot)
        assert isinstance(app.screen, CockpitScreen)
        assert pane.editing is not None and pane.editor is not None
        assert "typed with care" in pane.editor.text
        assert isinstance(app.focused, TextArea)
        await pilot.press("escape", "ctrl+s")  # asked again; dropped on purpose
        await settle(pilot)
        assert pane.editing is None


async def test_toasts_do_not_cover_the_drafts_when_they_have_focus(harness: Harness):
    from textual.widgets._toast import Toast

    iid = scenes.mid_flight(harness)
    app = harness.app(incident_id=iid)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("4", "e")
        await settle(pilot)
        for n in range(4):
            app.notify(f"toast {n}", timeout=30)
        await settle(pilot)
        editor = app.screen.query_one(".draft-editor")
        toasts = list(app.screen.query(Toast))
        assert toasts
        for toast in toasts:
            assert not toast.region.overlaps(editor.region)


# -- 3. long text: full-screen readers ---------------------------------------------------------
async def test_a_message_and_a_draft_open_full_screen(harness: Harness):
    from cockpit.ui.dialogs.message import MessageDetail
    from cockpit.ui.widgets.feed import FeedView

    iid = scenes.mid_flight(harness)
    app = harness.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one(FeedView).add_messages(scenes.feed(harness))
        await settle(pilot)
        await pilot.press("1", "o")
        await settle(pilot)
        assert isinstance(app.screen, MessageDetail)
        box = app.screen.query_one("#dialog")
        assert box.region.width == SIZE[0] and box.region.height == SIZE[1]
        await pilot.press("escape", "4", "v")
        await settle(pilot)
        assert isinstance(app.screen, MessageDetail)
        assert app.screen.query_one("#dialog").region.height == SIZE[1]
        assert app.screen.text.strip()
