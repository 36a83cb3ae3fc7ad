"""Safe under any keystroke: the highlighted feed row is the person's (new messages never
move it, a key acts on it), and a title raised from a message is the message's own words,
its input opened at the start."""

from __future__ import annotations

from textual.widgets import Input

from cockpit.ui.dialogs.incident import RaiseModal
from cockpit.ui.dialogs.message import MessageDetail
from cockpit.ui.widgets.feed import FeedView

from .conftest import SIZE, Harness, feed_message, settle

REPORT = (
    "Hi on-call :wave: one partner (Galerie Nord) can't log in to CMS — their password "
    "reset email never arrives. Could someone take a look?"
)


def detail_text(app) -> str:  # type: ignore[no-untyped-def]
    return " ".join(str(w.render()) for w in app.screen.query("*"))


async def test_a_key_acts_on_the_highlighted_row_when_messages_arrive(harness: Harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        feed = app.screen.query_one(FeedView)
        feed.add_messages([feed_message(f"old {i}", minutes_ago=60 - i) for i in range(5)])
        await pilot.press("1")
        await settle(pilot)
        assert feed.selected() is not None and feed.selected().text == "old 4"  # the newest
        feed.add_messages(
            [feed_message(f"new {i}", minutes_ago=10 - i, channel="alerts") for i in range(3)]
        )
        await pilot.pause()
        assert feed.selected().text == "old 4"  # the highlighted row stays the same message
        assert "3 new ↓" in str(feed.border_subtitle)
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, MessageDetail)
        shown = detail_text(app)
        assert "old 4" in shown and "new 2" not in shown


async def test_r_raises_from_the_highlighted_row_and_end_jumps_to_the_newest(harness: Harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        feed = app.screen.query_one(FeedView)
        feed.add_messages([feed_message("Checkout is failing for a lot of buyers", minutes_ago=9)])
        await pilot.press("1")
        await settle(pilot)
        feed.add_messages([feed_message("disk 91% on db-3", minutes_ago=1, channel="alerts")])
        await pilot.pause()
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, RaiseModal)
        title = app.screen.query_one("#title", Input).value
        assert title == "Checkout is failing for a lot of buyers"
        await pilot.press("escape")
        await settle(pilot)
        assert "1 new ↓" in str(feed.border_subtitle)
        await pilot.press("end")
        assert feed.selected().text == "disk 91% on db-3"
        assert "new ↓" not in str(feed.border_subtitle)


async def test_the_view_follows_new_rows_but_keeps_the_highlighted_one(harness: Harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        feed = app.screen.query_one(FeedView)
        feed.add_messages([feed_message(f"m{i}", minutes_ago=200 - i) for i in range(3)])
        await pilot.press("1")
        await settle(pilot)
        for batch in range(10):  # far more rows than the pane shows
            feed.add_messages(
                [feed_message(f"b{batch}-{i}", minutes_ago=100 - batch * 5 - i) for i in range(5)]
            )
            await pilot.pause()
        assert feed.selected().text == "m2"
        height = feed.scrollable_content_region.height
        top = int(feed.scroll_y)
        assert top <= feed.cursor < top + height  # the highlighted row is in view
        assert "50 new ↓" in str(feed.border_subtitle)


async def test_the_raise_title_is_the_whole_words_and_opens_at_its_start(harness: Harness):
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one(FeedView).add_messages([feed_message(REPORT, minutes_ago=3)])
        await pilot.press("1", "r")
        await settle(pilot)
        assert isinstance(app.screen, RaiseModal)
        title = app.screen.query_one("#title", Input)
        assert "their password reset email never arrives" in title.value
        assert REPORT.startswith(title.value.removesuffix("…"))
        assert len(title.value) <= 120
        assert title.cursor_position == 0
        assert title.scroll_offset.x == 0  # shows the start of the title, not its end
        await pilot.press("ctrl+s")
        await settle(pilot)
        incident = harness.service.incidents()[0]
        assert incident.title == title.value
