"""The feed view's rows when messages are appended (the alert-storm path) must be the rows
a full rebuild gives: same messages, same order, same reply counts on collapsed threads."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from textual.app import App, ComposeResult

from cockpit.domain.feed import FeedMessage
from cockpit.ui.widgets import feed as feed_module
from cockpit.ui.widgets.feed import FeedView

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class FeedApp(App[None]):
    def compose(self) -> ComposeResult:
        yield FeedView(tz=UTC, id="feed")


def storm(seed: int, n: int) -> list[FeedMessage]:
    """Messages in time order: top-level ones, and replies to recent threads (some
    to threads whose parent is long gone)."""
    rng = random.Random(seed)
    out: list[FeedMessage] = []
    parents: list[FeedMessage] = []
    for i in range(n):
        at = T0 + timedelta(seconds=i)
        ts = f"{at.timestamp():.6f}"
        channel = rng.choice(["alerts", "incidents", "incident-7"])
        if parents and rng.random() < 0.35:
            parent = rng.choice(parents[-15:])
            m = FeedMessage(
                channel=parent.channel,
                ts=ts,
                at=at,
                author="bot",
                text=f"reply {i}",
                thread_ts=parent.ts,
                reply_count=0,
            )
        else:
            m = FeedMessage(
                channel=channel,
                ts=ts,
                at=at,
                author="sam",
                text=f"message {i}",
                is_alert=channel == "alerts",
                reply_count=rng.choice([0, 0, 0, 2]),
            )
            parents.append(m)
        out.append(m)
    return out


def shape(view: FeedView) -> list[tuple[tuple[str, str], int, int]]:
    return [(r.message.key, r.depth, r.hidden_replies) for r in view.rows]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_appending_gives_the_rows_a_rebuild_gives(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed_module, "MAX_MESSAGES", 60)  # so the oldest are dropped often
    messages = storm(seed, 400)
    app = FeedApp()
    async with app.run_test(size=(100, 20)):
        view = app.query_one(FeedView)
        rng = random.Random(seed)
        i = 0
        while i < len(messages):
            batch = messages[i : i + rng.randint(1, 25)]
            i += len(batch)
            view.add_messages(batch)
            appended = shape(view)
            view._rebuild()
            assert appended == shape(view), f"after {i} messages"
        assert len(view.messages) == 60
        assert view.messages[-1].key == messages[-1].key


async def test_a_reply_to_an_expanded_thread_still_shows_under_it() -> None:
    (parent,) = storm(5, 1)
    at = parent.at + timedelta(minutes=1)
    reply = FeedMessage(
        channel=parent.channel,
        ts=f"{at.timestamp():.6f}",
        at=at,
        author="lin",
        text="me too",
        thread_ts=parent.ts,
    )
    app = FeedApp()
    async with app.run_test(size=(100, 20)):
        view = app.query_one(FeedView)
        view.add_messages([parent])
        view.focus()
        view.action_toggle_thread()  # expand it
        view.add_messages([reply])
        assert [(r.message.key, r.depth) for r in view.rows] == [
            (parent.key, 0),
            (reply.key, 1),
        ]


async def test_an_edit_or_a_deletion_takes_the_messages_place() -> None:
    from msgspec.structs import replace

    first, second = [m for m in storm(9, 40) if not m.is_reply][:2]
    app = FeedApp()
    async with app.run_test(size=(100, 10)) as pilot:
        view = app.query_one(FeedView)
        view.add_messages([first, second])
        await pilot.pause()
        edited = replace(first, text="payments back up [bold]now[/bold]", edited=True)
        deleted = replace(second, deleted=True)
        assert view.add_messages([edited, deleted]) == 0  # nothing new
        await pilot.pause()
        assert [r.message for r in view.rows] == [edited, deleted]
        strips = app.screen._compositor.render_strips()
        text = "\n".join("".join(seg.text for seg in strip) for strip in strips)
        assert "payments back up [bold]now[/bold]" in text and "(edited)" in text
        assert "(message deleted)" in text and second.text not in text
