"""A feed row is drawn again when a name in it arrives: the feed view fed by the real feed
poller against the drill range (in process), a report naming people and a user group the
feed does not know yet."""

from __future__ import annotations

from datetime import UTC

import pytest
from textual.app import App, ComposeResult

from cockpit.integrations.feed import FeedPoller
from cockpit.integrations.slack import SlackClient
from cockpit.sandbox.dispatch import IN_PROCESS_URL
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.tokens import BOT_TOKEN
from cockpit.ui.widgets.feed import FeedView


class FeedApp(App[None]):
    def compose(self) -> ComposeResult:
        yield FeedView(tz=UTC, id="feed")


class VirtualTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def screen_text(view: FeedView) -> list[str]:
    height = view.scrollable_content_region.height
    return ["".join(s.text for s in view.render_line(y)).rstrip() for y in range(height)]


async def no_room(**_kw: object) -> bool:
    return False


async def test_a_row_is_drawn_again_with_the_names(monkeypatch: pytest.MonkeyPatch) -> None:
    server = SandboxServer(scenario=None, lenient=True)  # virtual time: our own budget
    state = server.state
    incidents = state.channel_by_name("incidents")
    assert incidents is not None
    oncall = next(g for g in state.usergroups.values() if g["handle"] == "oncall")
    text = f"<@U0SBXBENJI1> <!subteam^{oncall['id']}> payments are failing"
    state.post(incidents, state.person_message("U0SBXJUNE01", text))
    app = FeedApp()
    async with app.run_test(size=(120, 8)) as pilot:
        view = app.query_one(FeedView)
        time = VirtualTime()
        slack = SlackClient(f"{IN_PROCESS_URL}/api", BOT_TOKEN, transport=server.transport())
        poller = FeedPoller(slack, view.add_messages, clock=time.clock, sleep=time.sleep)
        with monkeypatch.context() as busy:  # no room to look the names up first
            busy.setattr(poller, "_names_first", no_room)
            while not view.messages:
                await poller.step()
        await pilot.pause()
        before = "\n".join(screen_text(view))
        assert "U0SBXJUNE01: @someone (U0SBXBENJI1) @a group (S0SBX" in before
        assert "payments are failing" in before
        rows = len(view.rows)
        while time.now < 1060 and poller.names.pending:
            await poller.step()
        await pilot.pause()
        after = "\n".join(screen_text(view))
        assert "june: @benji @oncall payments are failing" in after, after
        assert "someone" not in after and "U0SBX" not in after
        assert len(view.rows) == rows  # the same row, drawn again: no new one
        assert "edited" not in after  # a name arriving is no edit
        await slack.aclose()


async def test_the_rows_on_screen_ask_for_their_names_first() -> None:
    """The view tells which rows on screen wait for names (once per change of what is
    shown, a moment after a scroll or a poll), so the feed looks those up first."""
    from datetime import datetime, timedelta

    from cockpit.domain.feed import FeedMessage
    from cockpit.ui.messages import FeedNamesOnScreen

    asked: list[list[tuple[str, str]]] = []

    class Watching(FeedApp):
        def on_feed_names_on_screen(self, event: FeedNamesOnScreen) -> None:
            asked.append(event.keys)

    t0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    messages = [
        FeedMessage(
            channel="incidents",
            ts=f"{1000 + i}.000100",
            at=t0 + timedelta(seconds=i),
            author="@someone (U…)",
            text=f"message {i}",
            wanted=(("user", f"U{i}"),) if i % 2 else (),
        )
        for i in range(40)
    ]
    app = Watching()
    async with app.run_test(size=(80, 8)) as pilot:
        view = app.query_one(FeedView)
        view.add_messages(messages)
        await pilot.pause(0.4)
        height = view.scrollable_content_region.height

        def on_screen() -> set[tuple[str, str]]:
            top = int(view.scroll_y)
            return {("incidents", f"{1000 + i}.000100") for i in range(top, top + height) if i % 2}

        assert asked and set(asked[-1]) == on_screen()
        n = len(asked)
        await pilot.pause(0.4)
        assert len(asked) == n  # nothing new on screen: not asked again
        view.scroll_to(y=20, animate=False, immediate=True)
        await pilot.pause(0.4)
        assert int(view.scroll_y) == 20
        assert len(asked) == n + 1 and set(asked[-1]) == on_screen()
