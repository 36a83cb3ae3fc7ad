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
from cockpit.sandbox.tokens import BOT_TOKEN, STATUSPAGE_KEY
from cockpit.ui.dialogs.send import ConfirmSend
from cockpit.ui.screens.main import CockpitScreen
from cockpit.ui.widgets.panes import ChecklistPane

from . import scenes
from .conftest import SIZE, Harness, settle

# the drill range's own Slack token and Statuspage key (it refuses others, as Slack does)
TOKENS = {"slack": BOT_TOKEN, "jira": "jira-ui", "statuspage": STATUSPAGE_KEY}


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


# -- 4. help where you are ------------------------------------------------------------------
async def test_help_lists_the_focused_panes_keys_first(harness: Harness):
    from cockpit.ui.screens.help import HelpScreen

    iid = scenes.mid_flight(harness)
    app = harness.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4", "question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.here == "the Drafts pane"
        first = [text for _, text in app.screen.here_keys]
        assert "Send the selected draft (shows exactly what goes where first)" in first
        assert "Raise a new incident" not in " ".join(first)
        await pilot.press("question_mark")  # the same key closes it
        await settle(pilot)
        assert isinstance(app.screen, CockpitScreen)


async def test_help_works_in_metrics_and_the_key_bar_shows_a_dialogs_keys(harness: Harness):
    from cockpit.ui.screens.help import HelpScreen
    from cockpit.ui.screens.metrics import MetricsScreen
    from cockpit.ui.widgets.keybar import KeyBar

    iid = scenes.mid_flight(harness)
    app = harness.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(KeyBar)
        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, MetricsScreen)
        shown = str(bar.render())
        assert "Close" in shown and "Raise" not in shown
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert any("Close" in text for _, text in app.screen.here_keys)


async def test_a_question_mark_typed_in_a_note_is_text(harness: Harness):
    from textual.widgets import Input

    iid = scenes.mid_flight(harness)
    app = harness.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n", *"why?")
        await settle(pilot)
        assert app.screen.query_one("#note", Input).value == "why?"


# -- 5. following ---------------------------------------------------------------------------
async def test_the_timeline_follows_new_entries_only_from_the_bottom(harness: Harness):
    from cockpit.ui.widgets.panes import TimelinePane

    iid = scenes.mid_flight(harness)
    for n in range(25):
        harness.service.add_note(iid, f"note {n}")
    app = harness.app(incident_id=iid)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        timeline = app.screen.query_one(TimelinePane)
        harness.service.add_note(iid, "from the CLI")
        app.screen.reload()  # type: ignore[attr-defined]
        await settle(pilot)
        newest = timeline.highlighted_entry()
        assert newest is not None and newest.text == "from the CLI"
        assert timeline.unseen == 0
        await pilot.press("2", "up", "up", "up")
        harness.service.add_note(iid, "another")
        app.screen.reload()  # type: ignore[attr-defined]
        await settle(pilot)
        assert timeline.highlighted_entry().text != "another"  # type: ignore[union-attr]
        assert "1 new ↓" in str(timeline.border_subtitle)
        await pilot.press("end")
        await settle(pilot)
        assert timeline.unseen == 0 and not timeline.border_subtitle


# -- 6. small terminals ---------------------------------------------------------------------
async def test_at_80_by_24_the_header_and_key_bar_keep_what_matters(harness: Harness):
    from cockpit.ui.widgets.keybar import KeyBar

    iid = scenes.mid_flight(harness)
    app = harness.app(incident_id=iid)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        summary = app.screen.query_one("#incident-summary")
        visible = str(summary.render())[: summary.size.width]
        assert f"#{iid}" in visible and "CRITICAL" in visible and "FIXING" in visible
        assert app.screen.query_one("#slo").region.width > 0
        assert "? Help" in str(app.screen.query_one(KeyBar).render())
        await pilot.press("4")
        await settle(pilot)
        assert app.screen.query_one("#draft-view").content_region.height >= 1


async def test_at_60_by_18_the_drafts_preview_has_a_row(harness: Harness):
    iid = scenes.mid_flight(harness)
    app = harness.app(incident_id=iid)
    async with app.run_test(size=(60, 18)) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#draft-view").content_region.height >= 1


def test_the_demo_debrief_is_plain_text(harness: Harness):
    from cockpit.demo import debrief

    scenes.mid_flight(harness)
    text = debrief(harness.services)
    assert "Timeline\n--------" in text
    assert "##" not in text and "**" not in text
