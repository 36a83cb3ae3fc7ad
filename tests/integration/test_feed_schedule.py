"""The feed's polling schedule without Socket Mode: within 25 requests a minute, a new
#incidents message is fetched within 5 s at the median and 10 s at worst, #alerts' within
15 s; the active incident's channel comes before #alerts, the rest after; a Socket Mode
reconnect attempt never takes #incidents' turn. On the drill range in process, in virtual
time (every task's sleep is an event; time jumps to the next one)."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
from collections.abc import Callable

from cockpit.domain.feed import FeedMessage
from cockpit.integrations.feed import (
    RANK_ACTIVE,
    RANK_ALERTS,
    RANK_RECONNECT,
    RANK_REPORT,
    RANK_REST,
    FeedPoller,
)
from cockpit.integrations.http import counting
from cockpit.integrations.slack import SlackClient
from cockpit.sandbox.dispatch import IN_PROCESS_URL
from cockpit.sandbox.faults import RateLimiter
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.state import BOT_USER_ID
from cockpit.sandbox.tokens import BOT_TOKEN


class EventTime:
    """Virtual time for several tasks: `sleep` waits for its moment; `run_until` lets
    every task run as far as it can, then moves time to the earliest sleeper's moment."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        fut = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._order), fut))
        await fut

    async def run_until(self, end: float, at: Callable[[float], None]) -> None:
        """Until `end`; `at(t)` is called as time reaches t (to post what is due)."""
        while self.now < end:
            for _ in range(20):  # everything runnable runs (the transport is in process)
                await asyncio.sleep(0)
            if not self._sleepers:
                continue
            t, _, fut = heapq.heappop(self._sleepers)
            at(t)
            self.now = max(self.now, t)
            if not fut.done():
                fut.set_result(None)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


def most_in_a_minute(times: list[float]) -> int:
    return max((sum(1 for t in times if s <= t < s + 60) for s in times), default=0)


def feed_in_virtual_time(
    server: SandboxServer, clock: EventTime
) -> tuple[SlackClient, FeedPoller, dict[str, float]]:
    """Slack's client on the in-process drill range and the feed polling it, in `clock`'s
    time; what the feed delivers is noted by text, at the (virtual) time it arrived."""
    slack = SlackClient(
        f"{IN_PROCESS_URL}/api",
        BOT_TOKEN,
        transport=server.transport(),
        clock=clock.clock,
        sleep=clock.sleep,
    )
    seen: dict[str, float] = {}

    def deliver(messages: list[FeedMessage]) -> None:
        for m in messages:
            seen.setdefault(m.text, clock.now)

    return slack, FeedPoller(slack, deliver, clock=clock.clock, sleep=clock.sleep), seen


async def test_polling_alone_meets_the_feed_budget_with_everything_watched():
    server = SandboxServer(scenario=None)
    state = server.state
    clock = EventTime()
    server.slack.limiter = RateLimiter(clock=clock.clock)  # Slack's own limits, same time
    alice = "U0SBXALICE1"
    others = [f"incident-{n}" for n in range(1, 6)]
    for name in others:
        state.create_channel(name, alice)
    incidents = state.channel_by_name("incidents")
    assert incidents is not None
    for n in range(3):  # threads with replies: watched, polled in what is left
        parent = state.post(incidents, state.person_message(alice, f"thread {n}"))
        state.post(incidents, state.person_message(alice, "a reply"), thread_ts=parent["ts"])
    slack, poller, seen = feed_in_virtual_time(server, clock)
    poller.watch_channels(others)
    poller.set_active_channel("incident-1")
    requests: list[float] = []  # every request counted in the budget, when
    take = poller._take

    def counted() -> None:
        requests.append(clock.now)
        take()

    poller._take = counted  # type: ignore[method-assign]
    waits: list[float] = []  # how long each reconnect attempt waited for the budget

    async def reconnecting() -> None:
        """Socket Mode refused again and again: tried again after 1, 2, 4 … s, at most
        every two minutes (socket.py's backoff, without its jitter)."""
        n = 0
        while True:
            asked = clock.now
            await poller.spend_open()
            waits.append(clock.now - asked)
            n += 1
            await clock.sleep(min(120.0, 2.0 ** (n - 1)))

    posted: dict[str, tuple[str, float]] = {}  # text -> (channel, when)
    targets = ["incidents", "alerts", "incident-1"]
    start, end = 1060.0, 1360.0  # a minute to settle, then five of posts
    k = itertools.count()

    def post_due(t: float) -> None:
        while True:
            n = len(posted)
            at = start + 1.7 * n  # one every 1.7 s in turn: never in step with a period
            if at > min(t, end):
                return
            name = targets[next(k) % len(targets)]
            channel = state.channel_by_name(name)
            assert channel is not None
            text = f"{name} post {n}"
            state.post(channel, state.person_message(alice, text))
            posted[text] = (name, at)

    tasks = [asyncio.create_task(poller.run()), asyncio.create_task(reconnecting())]
    try:
        await clock.run_until(end + 240.0, post_due)  # and four quiet minutes
    finally:
        poller.stop()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await slack.aclose()

    late = {name: [] for name in targets}  # type: dict[str, list[float]]
    for text, (name, at) in posted.items():
        assert text in seen, f"{text} never arrived"
        late[name].append(seen[text] - at)
    assert pct(late["incidents"], 50) <= 5.0, sorted(late["incidents"])
    assert max(late["incidents"]) <= 10.0, sorted(late["incidents"])
    assert max(late["alerts"]) <= 15.0, sorted(late["alerts"])
    assert max(late["incident-1"]) <= 15.0, sorted(late["incident-1"])
    # within the budget, the reconnect attempts included (the minute's requests kept)
    assert 20 <= most_in_a_minute(requests) <= 25
    # the rest is not starved: each reconnect attempt gets its turn within the minute the
    # budget is counted over (the polls above it take 20 of its 25), every other channel
    # is read (the rest shares what is left: a few requests a minute)
    assert len(waits) >= 7 and max(waits) <= 60.0, waits
    for name in others:
        ch = poller.channels[name]
        assert ch.oldest is not None, f"#{name} never read"


def make_poller(clock: EventTime) -> FeedPoller:
    server = SandboxServer(scenario=None)
    slack = SlackClient(f"{IN_PROCESS_URL}/api", BOT_TOKEN, transport=server.transport())
    poller = FeedPoller(slack, lambda _m: None, clock=clock.clock, sleep=clock.sleep)
    poller.watch_channels(["incident-7", "incident-8"])
    poller.set_active_channel("incident-7")
    return poller


def test_each_watched_channel_has_its_rank():
    poller = make_poller(EventTime())
    ch = poller.channels
    assert poller._rank(ch["incidents"]) == RANK_REPORT
    assert poller._rank(ch["incident-7"]) == RANK_ACTIVE
    assert poller._rank(ch["alerts"]) == RANK_ALERTS
    assert poller._rank(ch["incident-8"]) == RANK_REST
    poller.set_active_channel("incident-8")
    assert poller._rank(ch["incident-8"]) == RANK_ACTIVE
    assert poller._rank(ch["incident-7"]) == RANK_REST


def test_a_reconnect_attempt_waits_when_incidents_needs_the_budget():
    clock = EventTime()
    poller = make_poller(clock)
    for c in poller.channels.values():  # every other poll far off
        c.due = clock.now + 120.0
    incidents = poller.channels["incidents"]
    incidents.due = clock.now + 1.0  # #incidents is due in a second
    poller._tokens, poller._refilled = 1.0, clock.now  # one request in the bucket
    assert not poller._room_for(RANK_RECONNECT)  # it would leave none for #incidents
    assert poller._room_for(RANK_REPORT)
    poller._tokens = 2.0
    assert poller._room_for(RANK_RECONNECT)
    poller._tokens = 1.0
    incidents.due = clock.now + 7.5  # just polled: the bucket refills in time
    assert poller._room_for(RANK_RECONNECT)
    # the minute's hard limit keeps one request for #incidents
    poller.stats.requests.extend([clock.now - 1.0] * (poller.budget - 1))
    assert not poller._room_for(RANK_RECONNECT)
    assert poller._room_for(RANK_REPORT)


def test_the_border_is_told_how_late_a_report_may_be():
    clock = EventTime()
    poller = make_poller(clock)
    assert poller.expected_delay() == 7.5
    poller._paused_until = clock.now + 20.0  # a rate limit: the whole feed waits
    assert poller.expected_delay() == 27.5
    poller.set_live(True)
    assert poller.expected_delay() is None


def test_an_ended_incidents_channel_and_its_threads_are_dropped():
    clock = EventTime()
    poller = make_poller(clock)  # incident-7 shown, incident-8 open
    poller.watch_channels(["incident-9"])
    ended = poller.channels["incident-9"]
    poller._watch_thread(ended, "1700000000.000100", "1700000000.000200")
    poller._watch_thread(poller.channels["incidents"], "1700000000.000300", "1700000000.000300")
    poller.keep_channels(["#incident-8"])  # incident-9 ended; incident-7 is shown
    assert set(poller.channels) == {"incidents", "alerts", "incident-7", "incident-8"}
    assert [th.channel.name for th in poller.threads.values()] == ["incidents"]


async def test_the_outboxs_posts_count_in_the_budget():
    """A responder changing the incident every 4 s posts 15 messages a minute to its
    channel (the team's events): those posts go at once, and count in the cockpit's
    budget, so the feed's polls slow to what is left and the cockpit's Slack requests
    stay within 25 a minute; #incidents keeps its pace (the polls after it give way)."""
    server = SandboxServer(scenario=None)
    state = server.state
    clock = EventTime()
    server.slack.limiter = RateLimiter(clock=clock.clock)
    alice = "U0SBXALICE1"
    channel = state.create_channel("incident-1", alice)
    channel.members.append(BOT_USER_ID)  # (the cockpit made it: its bot is in)
    slack, poller, seen = feed_in_virtual_time(server, clock)
    poller.set_active_channel("incident-1")
    polls: list[float] = []
    posts: list[float] = []
    take = poller._take

    def counted() -> None:
        polls.append(clock.now)
        take()

    poller._take = counted  # type: ignore[method-assign]

    def told(system: str) -> None:
        assert system == "Slack"
        posts.append(clock.now)
        poller.count_elsewhere()

    async def outbox() -> None:
        with counting(told):
            await clock.sleep(60.0)  # a minute to settle
            while True:
                await slack.post_message(channel.id, f"change {len(posts)}")
                await clock.sleep(4.0)

    reported: dict[str, float] = {}
    incidents = state.channel_by_name("incidents")
    assert incidents is not None

    def post_due(t: float) -> None:
        while (at := 1060.0 + 3.1 * len(reported)) <= min(t, 1360.0):
            text = f"report {len(reported)}"
            state.post(incidents, state.person_message(alice, text))
            reported[text] = at

    tasks = [asyncio.create_task(poller.run()), asyncio.create_task(outbox())]
    try:
        await clock.run_until(1420.0, post_due)
    finally:
        poller.stop()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await slack.aclose()

    assert len(posts) >= 80 and poller.stats.elsewhere == len(posts)
    late = [seen[text] - at for text, at in reported.items()]
    assert pct(late, 50) <= 5.0 and max(late) <= 10.0, sorted(late)
    # once the posts' pace is known (a minute after they began), every minute within 25;
    # the minute they began may hold one more (polls made before the first post)
    steady = [t for t in polls + posts if t >= 1120.0]
    assert most_in_a_minute(steady) <= 25, most_in_a_minute(steady)
    assert most_in_a_minute(polls + posts) <= 26, most_in_a_minute(polls + posts)
    assert len(polls) >= 6 * 8  # the feed went on polling, in what the posts left
    assert poller.channels["incident-1"].oldest is not None  # read, in what is left
