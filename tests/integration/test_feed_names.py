"""Names in the background, through the feed poller against the drill range (in process,
virtual time): a message is delivered at once with readable placeholders and again when
its names arrive; each id is looked up once, in the budget's spare room, and kept on disk
for the next run, which then looks nothing up and lists no channel."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from cockpit.domain.feed import FeedMessage
from cockpit.integrations.feed import FeedPoller
from cockpit.integrations.slack import SlackClient
from cockpit.sandbox.dispatch import IN_PROCESS_URL
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.tokens import BOT_TOKEN
from cockpit.store.namecache import NameCache


class VirtualTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


class AsyncFalse:
    async def __call__(self, **_kw: object) -> bool:
        return False


class Rig:
    def __init__(self, server: SandboxServer, names: Path | None = None) -> None:
        self.server = server
        self.time = VirtualTime()
        self.got: list[FeedMessage] = []
        self.slack = SlackClient(f"{IN_PROCESS_URL}/api", BOT_TOKEN, transport=server.transport())
        self.slack.names.clock = lambda: 1_700_000_000.0 + self.time.now
        if names is not None:
            self.slack.names.load(NameCache(names).load())
        self.poller = FeedPoller(
            self.slack, self.got.extend, clock=self.time.clock, sleep=self.time.sleep
        )

    async def run_for(self, seconds: float) -> None:
        end = self.time.now + seconds
        while self.time.now < end:
            await self.poller.step()

    def calls(self, method: str) -> int:
        return self.server.state.requests[f"slack:{method}"]

    def versions(self, ts: str) -> list[FeedMessage]:
        return [m for m in self.got if m.ts == ts]

    def max_per_minute(self) -> int:
        times = list(self.poller.stats.requests)
        return max((sum(1 for t in times if s <= t < s + 60) for s in times), default=0)


def post_shapes(server: SandboxServer) -> dict[str, str]:
    """A person mentioning someone who wrote nothing, a user group and a channel without a
    label, and a bot whose messages carry no name: their ts by what they are."""
    state = server.state
    incidents, alerts = state.channel_by_name("incidents"), state.channel_by_name("alerts")
    payments = state.create_channel("payments-team", "U0SBXBENJI1")
    assert incidents is not None and alerts is not None
    oncall = next(g for g in state.usergroups.values() if g["handle"] == "oncall")
    text = (
        f"<@U0SBXBENJI1> can you look? <!subteam^{oncall['id']}> see <#{payments.id}>"
        " — checkout 502s since 14:05"
    )
    report = state.post(incidents, state.person_message("U0SBXPRIYA1", text))
    down = state.post(alerts, state.bot_message(state.bots["uptime"], "www is DOWN"))
    return {"report": report["ts"], "down": down["ts"]}


async def test_a_row_shows_placeholders_at_once_and_names_when_they_arrive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    server = SandboxServer(scenario=None, lenient=True)  # virtual time: our budget
    rig = Rig(server)
    ts = post_shapes(server)
    # no room in the budget to look names up before delivering (a busy minute)
    with monkeypatch.context() as busy:
        busy.setattr(rig.poller, "_names_first", AsyncFalse())
        await rig.run_for(3)
    first = rig.versions(ts["report"])[0]
    assert first.author == "U0SBXPRIYA1"  # the narrow author column: the id until named
    assert first.headline.startswith("@someone (U0SBXBENJI1) can you look? @a group (S0SBX")
    assert "#a channel (C0SBX" in first.headline
    assert rig.versions(ts["down"])[0].author.startswith("a bot (B0SBXUPTIME)")

    await rig.run_for(30)
    named = rig.versions(ts["report"])[-1]
    assert named.author == "priya"
    assert named.headline == (
        "@benji can you look? @oncall see #payments-team — checkout 502s since 14:05"
    )
    assert rig.versions(ts["down"])[-1].author == "Uptime Monitor"
    assert not named.wanted and not named.edited
    # each name once: priya and benji, one usergroups.list for every group, one channel, one bot
    assert rig.calls("users.info") == 2
    assert rig.calls("usergroups.list") == 1
    assert rig.calls("conversations.info") == 1
    assert rig.calls("bots.info") == 1
    assert rig.poller.stats.name_lookups == 5
    assert rig.max_per_minute() <= 25

    # the next run: the names from disk, the channels' ids too: nothing looked up or listed
    NameCache(tmp_path).save(rig.slack.names.to_dict())
    server.state.requests.clear()
    again = Rig(server, names=tmp_path)
    await again.run_for(6)
    shown = again.versions(ts["report"])
    assert shown and shown[0].author == "priya" and "@oncall" in shown[0].headline
    assert len(shown) == 1  # right the first time: no second delivery
    for method in (
        "users.info",
        "usergroups.list",
        "conversations.info",
        "bots.info",
        "conversations.list",
        "users.conversations",
    ):
        assert again.calls(method) == 0, method


async def test_many_messages_of_one_unknown_person_cost_one_lookup():
    server = SandboxServer(scenario=None, lenient=True)  # virtual time: our budget
    state = server.state
    incidents = state.channel_by_name("incidents")
    assert incidents is not None
    rig = Rig(server)
    await rig.run_for(6)
    for i in range(20):
        state.post(incidents, state.person_message("U0SBXMARCO1", f"still failing ({i})"))
    await rig.run_for(30)
    marco = [m for m in rig.got if m.text.startswith("still failing")]
    assert {m.ts for m in marco} == {m.ts for m in marco if m.author == "marco"} | {
        m.ts for m in marco if m.author != "marco"
    }
    latest = {m.ts: m for m in marco}  # the last version of each
    assert len(latest) == 20 and all(m.author == "marco" for m in latest.values())
    assert rig.calls("users.info") == 1


async def test_lookups_never_hold_up_incidents_polling():
    """Twenty people nobody has named yet write at once, with polling alone: #incidents is
    still asked every 7.5 s, the names come in the budget's spare room (what polling leaves:
    a few a minute), the minute's budget holds."""
    server = SandboxServer(scenario=None, lenient=True)  # virtual time: our budget
    state = server.state
    incidents = state.channel_by_name("incidents")
    assert incidents is not None
    people = [state.add_person(f"p{i:02d}", f"Person {i:02d}")["id"] for i in range(20)]
    rig = Rig(server)
    await rig.run_for(6)
    for uid in people:
        state.post(incidents, state.person_message(uid, "me too"))
    polls: list[float] = []
    original = rig.slack.messages_since

    async def watched(channel_id, oldest, *, cursor, limit):  # type: ignore[no-untyped-def]
        if channel_id == incidents.id:
            polls.append(rig.time.now)
        return await original(channel_id, oldest, cursor=cursor, limit=limit)

    rig.slack.messages_since = watched  # type: ignore[method-assign]
    await rig.run_for(330)
    gaps = [b - a for a, b in itertools.pairwise(polls)]
    assert gaps and max(gaps) <= 7.5 + 0.5  # its period: the look-ups never take its turn
    assert rig.max_per_minute() <= 25
    named = {m.author for m in rig.got if m.text == "me too"}
    assert {f"p{i:02d}" for i in range(20)} <= named  # all named within five minutes
    assert rig.calls("users.info") == 20
