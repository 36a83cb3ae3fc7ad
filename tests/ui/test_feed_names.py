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
