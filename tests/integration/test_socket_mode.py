"""Socket Mode (cockpit/integrations/socket.py) with the feed poller, in virtual time:
acknowledgements, what reaches the feed (once, sanitized, only watched channels), edits and
deletions, reconnecting with backoff, giving up, stopping.

Slack's Web API is the drill range in process (cockpit/sandbox/transport.py; every exchange
checked against Slack's specs, apps.connections.open included); messages are posted into its
state, and the `message` events it emits for them (what its Socket Mode server would push)
are what the far end sends. The WebSocket's far end is `FarEnd`, in virtual time, which
speaks Slack's Socket Mode frames as documented and checks every frame the client sends is
a well-formed acknowledgement. (tests/integration/test_socket_sandbox.py runs the same
client against the drill range's own Socket Mode server over loopback.)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from cockpit.domain.feed import FeedMessage
from cockpit.integrations import socket as socket_mod
from cockpit.integrations.feed import LIVE_PERIOD, LIVE_THREAD_PERIOD, FeedPoller
from cockpit.integrations.http import NO_RETRY
from cockpit.integrations.slack import SlackClient
from cockpit.integrations.socket import MIN_OPEN_GAP, SlackSocket
from cockpit.sandbox.dispatch import IN_PROCESS_URL
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.state import APP_ID, BOT_USER_ID, JSON, TEAM_ID, Channel
from tests.integration.test_sandbox_support import checked_transport

API = f"{IN_PROCESS_URL}/api"
BOT_TOKEN = "xoxb-1111-2222-SECRETSLACKTOKEN"
APP_TOKEN = "xapp-1-A0SBXCOCKPT-3333-SECRETAPPTOKEN"
ALICE = "U0SBXALICE1"  # display name "alice"


class VirtualTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self.alarms: list[tuple[float, Callable[[], None]]] = []

    def clock(self) -> float:
        return self.now

    def at(self, when: float, fn: Callable[[], None]) -> None:
        """Call `fn` once virtual time reaches `when` (in the middle of someone's sleep)."""
        self.alarms.append((when, fn))

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)
        for alarm in [a for a in self.alarms if a[0] <= self.now]:
            self.alarms.remove(alarm)
            alarm[1]()
        await asyncio.sleep(0)  # let the other tasks run, as a real sleep would


async def until(cond: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.001)


_ids = itertools.count(1)


class FarEnd:
    """Slack's end of one Socket Mode WebSocket; the client holds it as its Connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.frames: asyncio.Queue[str | bytes | BaseException] = asyncio.Queue()
        self.received: list[dict[str, Any]] = []  # what the client sent
        self.closed = False
        self.pong = True

    # -- the client's side ---------------------------------------------------------------
    async def recv(self) -> str | bytes:
        item = await self.frames.get()
        if isinstance(item, BaseException):
            raise item
        return item

    async def send(self, message: str) -> None:
        assert not self.closed, "sent on a closed connection"
        doc = json.loads(message)
        # Slack's acknowledgement: the envelope's id, and a payload only when asked for
        assert isinstance(doc, dict) and isinstance(doc.get("envelope_id"), str), doc
        assert set(doc) <= {"envelope_id", "payload"}, doc
        self.received.append(doc)

    async def ping(self) -> asyncio.Future[float]:
        pong: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if self.pong:
            pong.set_result(0.001)
        return pong

    async def close(self) -> None:
        self.closed = True

    # -- Slack's side --------------------------------------------------------------------
    @property
    def acks(self) -> list[str]:
        return [d["envelope_id"] for d in self.received]

    def hello(self) -> None:
        self.frames.put_nowait(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {
                        "host": "applink-7fc4fdbb64-4x5xq",
                        "build_number": 10,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": APP_ID},
                }
            )
        )

    def envelope(self, kind: str, payload: dict[str, Any], *, retry: int = 0) -> str:
        eid = f"envelope-{next(_ids)}"
        self.frames.put_nowait(
            json.dumps(
                {
                    "envelope_id": eid,
                    "type": kind,
                    "accepts_response_payload": kind != "events_api",
                    "retry_attempt": retry,
                    "retry_reason": "timeout" if retry else "",
                    "payload": payload,
                }
            )
        )
        return eid

    def event(self, event: dict[str, Any], *, event_id: str | None = None, retry: int = 0) -> str:
        return self.envelope(
            "events_api",
            {
                "token": "verification-token",
                "team_id": TEAM_ID,
                "api_app_id": APP_ID,
                "type": "event_callback",
                "event_id": event_id or f"Ev{next(_ids):08d}",
                "event_time": 1767000000,
                "event": event,
            },
            retry=retry,
        )

    def disconnect(self, reason: str) -> None:
        self.frames.put_nowait(
            json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "a"}})
        )

    def drop(self) -> None:
        self.frames.put_nowait(ConnectionResetError("connection reset by peer"))


class Socketland:
    """Where the client connects: a FarEnd per URL, or a refusal."""

    def __init__(self, rig: Rig, time_: VirtualTime) -> None:
        self.rig = rig
        self.time = time_
        self.ends: list[FarEnd] = []
        self.attempts: list[float] = []  # virtual times of connection attempts
        self.refuse: list[BaseException] = []
        self.auto_hello = True
        self.silent = 0  # the next n connections never say hello

    async def connect(self, url: str) -> FarEnd:
        assert url == self.rig.socket_urls()[-1], "each connection uses a fresh URL"
        self.attempts.append(self.time.now)
        if self.refuse:
            raise self.refuse.pop(0)
        end = FarEnd(url)
        self.ends.append(end)
        if self.silent > 0:
            self.silent -= 1
        elif self.auto_hello:
            end.hello()
        return end

    @property
    def end(self) -> FarEnd:
        return self.ends[-1]


class Rig:
    def __init__(self, *, app_token: str | None = None, rng: float = 1.0) -> None:
        self.time = VirtualTime()
        # never started: in process only
        self.server = SandboxServer(scenario=None, tokens=[BOT_TOKEN, APP_TOKEN])
        state = self.server.state
        self.incidents = self.channel_id("incidents")
        self.alerts = self.channel_id("alerts")
        # the bot is in it, cockpit ignores it
        self.random = state.create_channel("random", BOT_USER_ID).id
        self.events: list[JSON] = []  # every message event the drill range emitted

        def heard(channel: Channel, event: JSON) -> None:
            self.events.append(dict(event))

        state.listeners.append(heard)
        self.got: list[FeedMessage] = []
        kw: dict[str, Any] = {"sleep": self.time.sleep, "clock": self.time.clock}
        self.bot_http = checked_transport(self.server, "slack")
        self.app_http = checked_transport(self.server, "slack")
        self.bot = SlackClient(API, BOT_TOKEN, transport=self.bot_http, **kw)
        self.app = SlackClient(
            API, app_token or APP_TOKEN, transport=self.app_http, retry=NO_RETRY, **kw
        )
        self.poller = FeedPoller(self.bot, self.got.extend, **kw)
        self.land = Socketland(self, self.time)
        self.live: list[bool] = []

        def on_live(live: bool) -> None:
            self.live.append(live)
            self.poller.set_live(live)

        self.socket = SlackSocket(
            self.app,
            self.poller.take_messages,
            on_live=on_live,
            before_open=self.poller.spend_open,
            connect=self.land.connect,
            rng=lambda: rng,
            **kw,
        )
        self.task: asyncio.Task[None] | None = None

    def channel_id(self, name: str) -> str:
        ch = self.server.state.channel_by_name(name)
        assert ch is not None
        return ch.id

    def socket_urls(self) -> list[str]:
        """The WebSocket URLs apps.connections.open handed out, in order."""
        return [
            response.json()["url"]
            for request, response in self.app_http.exchanges
            if request.url.path.endswith("/apps.connections.open")
            and response is not None
            and response.status_code == 200
            and response.json().get("ok") is True
        ]

    def calls(self, method: str) -> int:
        return self.server.state.requests[f"slack:{method}"]

    async def start(self, *, first_poll: bool = True) -> None:
        if first_poll:  # resolve the channels, show their history
            await self.poll_for(6)
        self.task = asyncio.create_task(self.socket.run())
        await until(lambda: self.socket.live)

    async def poll_for(self, seconds: float) -> None:
        end = self.time.now + seconds
        while self.time.now < end:
            await self.poller.step()

    def message(
        self,
        text: str,
        channel: str | None = None,
        *,
        user: str = ALICE,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> JSON:
        """Post into the drill range's workspace as `user`; returns the message event it
        emitted (what Slack would push)."""
        state = self.server.state
        heard = len(self.events)
        state.post(
            state.channels[channel or self.incidents],
            state.person_message(user, text),
            thread_ts=thread_ts,
            broadcast=broadcast,
        )
        (event,) = self.events[heard:]
        return event

    def shown(self, ts: str) -> list[FeedMessage]:
        return [m for m in self.got if m.ts == ts]

    async def stop(self) -> None:
        self.socket.stop()
        if self.task is not None:
            await asyncio.wait_for(self.task, 5)
        await self.bot.aclose()
        await self.app.aclose()


@pytest.fixture
async def rig() -> Any:
    r = Rig()
    yield r
    await r.stop()


# -- envelopes -------------------------------------------------------------------------------
async def test_every_envelope_is_acknowledged_whatever_its_type(rig: Rig):
    await rig.start()
    end = rig.land.end
    ids = [
        end.event(rig.message("one")),
        end.envelope("slash_commands", {"command": "/incident", "text": "x"}),
        end.envelope("interactive", {"type": "block_actions"}),
        end.envelope("a_type_from_the_future", {}),
        end.event({"type": "reaction_added", "user": "U0ALICE", "reaction": "eyes"}),
    ]
    for junk in ("not json", "[1, 2, 3]", b"\xff\xfe"):
        end.frames.put_nowait(junk)
    ids.append(end.event(rig.message("two")))
    await until(lambda: len(end.acks) == len(ids))
    assert end.acks == ids  # in order, each once
    await until(lambda: len(rig.got) >= 2)
    assert rig.socket.live and rig.socket.status.state == "connected"
    assert rig.socket.status.envelopes == 1 + len(ids)  # hello and the envelopes, no junk
    assert rig.socket.status.refresh_in == 18060.0


async def test_an_envelope_is_acknowledged_even_when_handing_it_on_fails():
    rig = Rig()
    calls: list[int] = []

    async def broken(batch: list[Any]) -> None:
        calls.append(len(batch))
        raise RuntimeError("the feed is broken")

    rig.socket.on_messages = broken
    try:
        await rig.start()
        end = rig.land.end
        first = end.event(rig.message("one"))
        await until(lambda: calls)
        second = end.event(rig.message("two"))
        await until(lambda: len(calls) == 2)
        assert end.acks == [first, second] and rig.socket.live  # it carries on
    finally:
        await rig.stop()


# -- what reaches the feed -----------------------------------------------------------------
async def test_a_pushed_message_is_shown_once_sanitized_and_not_again_when_polled(rig: Rig):
    await rig.start()
    before = rig.calls("conversations.history")
    hostile = f"pay \x1b]52;c;aGVsbG8=\x07now \x1b[2J[@click=app.quit] \u202eevil\u202c <@{ALICE}>"
    event = rig.message(hostile)
    rig.land.end.event(event)
    await until(lambda: rig.shown(event["ts"]))
    (shown,) = rig.shown(event["ts"])
    assert shown.channel == "incidents" and shown.author == "alice"
    for bad in ("\x1b", "\x07", "\u202e", "\u202c"):
        assert bad not in shown.text
    assert "[@click=app.quit]" in shown.text and "@alice" in shown.text  # literal, named
    assert shown.permalink.endswith(f"/archives/{rig.incidents}/p{event['ts'].replace('.', '')}")
    # the catch-up after hello and the safety net fetch it again: it is not shown again
    await rig.poll_for(LIVE_PERIOD * 2)
    assert len(rig.shown(event["ts"])) == 1
    assert rig.poller.stats.duplicates >= 1 and rig.poller.stats.pushed == 1
    # with the socket up, polling is a safety net: each channel about once a minute
    assert rig.calls("conversations.history") - before <= 2 * 3


async def test_events_of_channels_cockpit_does_not_watch_are_ignored(rig: Rig):
    await rig.start()
    rig.land.end.event(rig.message("lunch?", channel=rig.random))
    watched = rig.message("payments down")
    rig.land.end.event(watched)
    await until(lambda: rig.shown(watched["ts"]))
    assert all(m.channel != "random" for m in rig.got)
    assert len(rig.land.end.acks) == 2  # acknowledged all the same
    # in one batch too, and a channel watched but not found yet is no exception either
    rig.poller.watch_channels(["incident-9"])
    mixed = [
        (rig.random, {"type": "message", "text": "x", "ts": "1767000000.000001"}),
        ("C0NOTKNOWN", {"type": "message", "text": "y", "ts": "1767000000.000002"}),
        (rig.incidents, {"type": "message", "text": "z", "ts": "1767000000.000003"}),
    ]
    assert [m.text for m in await rig.poller.take_messages(mixed)] == ["z"]


async def test_edits_and_deletions_replace_and_stale_copies_do_not(rig: Rig):
    await rig.start()
    end = rig.land.end
    event = rig.message("Checkout is failing")
    ts = event["ts"]
    end.event(event, event_id="Ev0ORIGINAL")
    await until(lambda: rig.shown(ts))
    before = {k: v for k, v in event.items() if k not in ("channel", "event_ts", "channel_type")}
    edited = {**before, "text": "Checkout is failing for cards", "edited": {"ts": "9.1"}}
    end.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": rig.incidents,
            "ts": "1767009999.000001",
            "event_ts": "1767009999.000001",
            "message": edited,
            "previous_message": before,
        }
    )
    await until(lambda: len(rig.shown(ts)) == 2)
    assert rig.shown(ts)[-1].edited and rig.shown(ts)[-1].text == "Checkout is failing for cards"
    handed_on = rig.socket.status.events
    end.event(event, event_id="Ev0ORIGINAL", retry=1)  # sent again: skipped by its id
    await until(lambda: len(end.acks) == 3)
    assert rig.socket.status.events == handed_on
    end.event(event)  # an older copy under another id: the edit stands
    marker = rig.message("a later message")
    end.event(marker)
    await until(lambda: rig.shown(marker["ts"]))
    assert len(rig.shown(ts)) == 2
    end.event(
        {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "channel": rig.incidents,
            "ts": "1767009999.000002",
            "deleted_ts": ts,
            "previous_message": edited,
        }
    )
    await until(lambda: len(rig.shown(ts)) == 3)
    gone = rig.shown(ts)[-1]
    assert gone.deleted and gone.text == "(message deleted)"
    end.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": rig.incidents,
            "ts": "1767009999.000003",
            "message": {**edited, "text": "too late", "edited": {"ts": "9.2"}},
            "previous_message": edited,
        }
    )
    marker = rig.message("another later message")
    end.event(marker)
    await until(lambda: rig.shown(marker["ts"]))
    assert len(rig.shown(ts)) == 3  # deleted stays deleted


async def test_thread_replies_arrive_as_events_and_their_thread_is_kept_watched(rig: Rig):
    await rig.start()
    end = rig.land.end
    parent = rig.message("payments down?")
    end.event(parent)
    reply = rig.message("yes, since 14:05", thread_ts=parent["ts"])
    end.event(reply)
    broadcast = rig.message("mitigated", thread_ts=parent["ts"], broadcast=True)
    end.event(broadcast)
    await until(lambda: rig.shown(broadcast["ts"]))
    (shown,) = rig.shown(reply["ts"])
    assert shown.thread_ts == parent["ts"] and shown.is_reply
    assert "↳ a thread reply, also sent to the channel" in rig.shown(broadcast["ts"])[0].extra
    thread = rig.poller.threads[("incidents", parent["ts"])]
    assert thread.due >= rig.time.now + LIVE_THREAD_PERIOD - 5  # a slow safety net
    # the socket goes away: the thread is polled at its own pace from the last reply
    rig.land.end.drop()
    rig.land.auto_hello = False
    await until(lambda: not rig.socket.live)
    assert thread.due <= rig.time.now + 30
    late = rig.message("rolled back", thread_ts=parent["ts"])
    await rig.poll_for(35)
    assert [m.text for m in rig.shown(late["ts"])] == ["rolled back"]
    assert len(rig.shown(reply["ts"])) == 1


async def test_a_pushed_message_is_named_at_once_within_the_minutes_limit(rig: Rig):
    await rig.start()
    rig.poller._tokens = 0.0  # the bucket is empty: a poll would wait; a name does not
    rig.poller.sleep = asyncio.sleep  # (a real wait, if there were one)
    bob = rig.server.state.add_person("bob", "Bob Builder", display_name="Bob")["id"]
    event = rig.message("is anyone on it?", user=bob)
    started = time.monotonic()
    rig.land.end.event(event)
    # shown at once, and named as soon as users.info answers (ahead of the polls)
    await until(lambda: any(m.author == "Bob" for m in rig.shown(event["ts"])), 1.0)
    assert time.monotonic() - started < 0.5
    assert rig.shown(event["ts"])[-1].author == "Bob"
    assert rig.poller._tokens < 0  # taken ahead: the next polls wait the longer
    # the minute's hard limit reached: the message goes out at once, with the user id
    now = rig.time.now
    rig.poller.stats.requests.extend([now] * rig.poller.budget)
    asked = rig.calls("users.info")
    carol = rig.server.state.add_person("carol", "Carol Danvers", display_name="Carol")["id"]
    event = rig.message("rolling back now", user=carol)
    rig.land.end.event(event)
    await until(lambda: rig.shown(event["ts"]), 1.0)
    assert rig.shown(event["ts"])[0].author == carol  # the name comes later
    assert rig.calls("users.info") == asked


# -- connecting again ------------------------------------------------------------------------
async def test_a_refresh_reconnects_at_once_and_what_was_sent_meanwhile_is_caught_up(rig: Rig):
    await rig.start()
    await rig.poll_for(LIVE_PERIOD + 1)  # the catch-up after the first hello, done
    first = rig.land.end
    first_url = first.url
    rig.land.auto_hello = False
    asked_at = rig.time.now
    first.disconnect("refresh_requested")
    await until(lambda: len(rig.land.ends) == 2)
    assert rig.live == [True, False] and not rig.poller.live
    assert first.closed and rig.land.end.url != first_url
    # what is posted while the new connection is not up yet comes by the catch-up fetch
    missed = rig.message("posted while reconnecting")
    rig.land.end.hello()
    await until(lambda: rig.socket.live)
    hello_at = rig.time.now
    assert rig.live == [True, False, True]
    assert rig.land.attempts[1] - asked_at <= MIN_OPEN_GAP  # no backoff
    assert rig.socket.failures == 0 and rig.socket.status.connections == 2
    await rig.poller.step()
    await rig.poller.step()
    assert [m.text for m in rig.shown(missed["ts"])] == ["posted while reconnecting"]
    assert rig.time.now - hello_at < 1.0  # fetched at once on the new hello


async def test_when_the_socket_goes_down_polling_is_back_at_once(rig: Rig):
    """The poller may be in the middle of a safety-net wait (a minute) when the socket goes
    down: it must not finish that wait before polling at its own pace again."""
    await rig.poll_for(6)
    rig.poller.set_live(True)
    for _ in rig.poller.channels:  # the catch-up fetches; the next polls are a minute away
        await rig.poller.step()
    assert min(ch.due for ch in rig.poller.channels.values()) >= rig.time.now + 50
    event = rig.message("posted just before the socket went down")
    down_at = rig.time.now + 10
    rig.time.at(down_at, lambda: rig.poller.set_live(False))
    while not rig.shown(event["ts"]):
        await rig.poller.step()
    assert rig.time.now <= down_at + 7.5 + 0.5  # #incidents' own period, not the minute


@pytest.mark.parametrize(("rng", "gaps"), [(1.0, [2, 2, 4, 8, 16, 32, 64, 120, 120]), (0.0, None)])
async def test_failures_back_off_exponentially_with_jitter(rng: float, gaps: list[int] | None):
    rig = Rig(rng=rng)
    rig.land.refuse = [OSError("connection refused")] * 9
    try:
        await rig.start(first_poll=False)
        times = rig.land.attempts
        got = [round(b - a, 3) for a, b in itertools.pairwise(times[:10])]
        if gaps is not None:
            assert got == gaps
        else:  # jitter: half the wait; never faster than MIN_OPEN_GAP
            assert got == [2, 2, 2, 4, 8, 16, 32, 60, 60]
        assert rig.socket.failures == 0 and rig.socket.status.state == "connected"
        assert len(set(rig.socket_urls())) == 10  # a fresh URL for every attempt
    finally:
        await rig.stop()


async def test_a_dropped_connection_comes_back_soon_and_a_silent_one_is_a_failure(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(socket_mod, "HELLO_DEADLINE", 0.05)
    rig = Rig(rng=0.5)
    try:
        await rig.start(first_poll=False)
        rig.land.silent = 1  # the next connection says nothing
        dropped_at = rig.time.now
        rig.land.end.drop()
        await until(lambda: len(rig.land.ends) == 3 and rig.socket.live)
        assert rig.live == [True, False, True]
        assert rig.land.attempts[1] - dropped_at <= MIN_OPEN_GAP  # soon: it was up
        assert rig.land.ends[1].closed  # silent: given up after HELLO_DEADLINE, backed off
        assert rig.land.attempts[2] - rig.land.attempts[1] >= MIN_OPEN_GAP
        assert rig.socket.failures == 0 and rig.socket.status.connections == 2
    finally:
        await rig.stop()


async def test_a_quiet_connection_is_pinged_and_given_up_without_a_pong(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(socket_mod, "PING_DEADLINE", 0.05)
    rig = Rig()
    rig.socket.idle = 0.02
    said: list[str] = []
    rig.socket.on_status = lambda status: said.append(status.detail)
    try:
        await rig.start(first_poll=False)
        await asyncio.sleep(0.15)  # several quiet periods, each answered
        assert rig.socket.live and len(rig.land.ends) == 1
        rig.land.end.pong = False
        await until(lambda: len(rig.land.ends) == 2)
        assert rig.live[:2] == [True, False] and rig.land.ends[0].closed
        assert "the connection stopped answering" in said
    finally:
        await rig.stop()


@pytest.mark.parametrize(
    ("reason", "at_least"), [("link_disabled", 600.0), ("too_many_websockets", 0.5)]
)
async def test_other_disconnects_wait(reason: str, at_least: float):
    rig = Rig(rng=0.5)
    try:
        await rig.start(first_poll=False)
        rig.land.auto_hello = False
        rig.land.end.disconnect(reason)
        await until(lambda: len(rig.land.ends) == 2)
        assert rig.land.attempts[1] - rig.land.attempts[0] >= at_least
        if reason == "link_disabled":
            assert rig.socket.failures == 0
        else:
            assert rig.socket.failures == 1
    finally:
        await rig.stop()


async def test_a_refused_app_token_gives_up_and_polling_goes_on():
    rig = Rig(app_token=BOT_TOKEN)  # the bot token by mistake
    try:
        rig.task = asyncio.create_task(rig.socket.run())
        await asyncio.wait_for(rig.task, 5)
        assert rig.socket.status.state == "failed"
        assert "not_allowed_token_type" in rig.socket.status.detail
        assert rig.land.attempts == [] and rig.live == []
        event = rig.message("still polled")
        await rig.poll_for(6)
        # (delivered once more if its author's name came after it)
        assert {m.text for m in rig.got if m.ts == event["ts"]} == {"still polled"}
        assert "SECRET" not in rig.socket.status.detail
    finally:
        await rig.stop()


async def test_a_url_that_cannot_be_had_is_tried_again_later():
    rig = Rig()
    rig.server.faults.force("status", status=503, on="apps.connections.open", times=2)
    try:
        await rig.start(first_poll=False)
        assert len(rig.socket_urls()) == 1 and rig.socket.failures == 0
        assert rig.calls("apps.connections.open") == 3
    finally:
        await rig.stop()


# -- stopping --------------------------------------------------------------------------------
async def test_stop_ends_run_at_once_and_leaves_no_task(rig: Rig):
    others = asyncio.all_tasks() - {asyncio.current_task()}
    await rig.start(first_poll=False)
    started = time.monotonic()
    rig.socket.stop()
    assert rig.task is not None
    await asyncio.wait_for(rig.task, 1)
    assert time.monotonic() - started < 0.5
    assert rig.land.end.closed and rig.socket.status.state == "stopped"
    assert rig.live == [True, False] and not rig.poller.live
    assert asyncio.all_tasks() - {asyncio.current_task()} == others


async def test_stop_during_a_backoff_wait_and_cancelling_run_leave_nothing_behind():
    fake_time = VirtualTime()
    rig = Rig()
    rig.land.refuse = [OSError("refused")] * 50
    rig.socket.sleep = asyncio.sleep  # a real wait this time
    rig.socket.clock = fake_time.clock
    try:
        rig.task = asyncio.create_task(rig.socket.run())
        await until(lambda: rig.socket.failures >= 1)
        await asyncio.sleep(0.05)  # in the backoff wait (1 s)
        started = time.monotonic()
        rig.socket.stop()
        await asyncio.wait_for(rig.task, 1)
        assert time.monotonic() - started < 0.5
    finally:
        await rig.stop()
    # and a run task cancelled from outside (as the remote thread does at quit)
    again = Rig()
    try:
        task = asyncio.create_task(again.socket.run())
        await until(lambda: again.socket.live)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert again.land.end.closed and not again.poller.live
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not [t for t in left if "slack-socket" in t.get_name()]
    finally:
        await again.stop()
