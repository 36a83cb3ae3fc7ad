"""Socket Mode against the drill range over loopback: the sandbox's side of the protocol,
then cockpit's feed (poller + socket, and the whole remote side) against it.

Every Web API exchange is checked against Slack's published specs (tests/spec_check.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from cockpit.application.build import build_services
from cockpit.application.runtime import Remote
from cockpit.config import load_settings
from cockpit.domain.clock import SystemClock
from cockpit.domain.feed import FeedMessage
from cockpit.integrations import feed as feed_mod
from cockpit.integrations.feed import FeedPoller
from cockpit.integrations.slack import SlackClient
from cockpit.integrations.socket import SlackSocket
from cockpit.sandbox.faults import RateLimiter
from cockpit.sandbox.server import SandboxServer
from cockpit.store.store import Store
from tests import spec_check
from tests.integration.test_sandbox_support import SLACK_BOT, checked_client, slack

APP = {"Authorization": "Bearer xapp-1-A0SBXCOCKPT-1-drill"}
# the tokens these tests give cockpit, known to their drill ranges
TOKENS = [
    "xapp-1-A0SBXCOCKPT-1-drill",
    "xapp-1-drill",
    "xoxb-cockpit-test",
    "xoxb-remote",
    "xapp-1-remote",
    "xoxb-x",
    "xapp-x",
]
INCIDENTS = "C0SBXINCIDNT"


class CheckedTransport(httpx.AsyncBaseTransport):
    """Real loopback HTTP whose every Slack exchange is checked against the spec."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.methods: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        spec_check.check_slack(request, None)
        self.methods.append(request.url.path.rsplit("/", 1)[-1])
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        await response.aclose()
        answer = httpx.Response(response.status_code, headers=response.headers, content=body)
        if not request.url.path.endswith("/conversations.replies"):  # see test_sandbox_support
            spec_check.check_slack(request, answer)
        return answer

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(scenario=None, tokens=TOKENS) as srv:
        assert srv.socket is not None
        srv.socket.resend_after = 0.5
        yield srv


async def until(cond: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


def post(server: SandboxServer, text: str, channel: str = "incidents") -> str:
    ch = server.state.channel_by_name(channel)
    assert ch is not None
    return str(server.state.post(ch, server.state.person_message("U0SBXBENJI1", text))["ts"])


# -- the sandbox's side --------------------------------------------------------------------
def test_the_sandbox_speaks_socket_mode(server: SandboxServer) -> None:
    hub = server.socket
    assert hub is not None
    with checked_client(server.base_url) as client:
        # only the app-level token opens connections, and it does nothing else
        assert slack(client, "apps.connections.open")["error"] == "not_allowed_token_type"
        assert slack(client, "auth.test", APP)["error"] == "not_allowed_token_type"
        url = slack(client, "apps.connections.open", APP)["url"]
        assert url.startswith(f"ws://127.0.0.1:{hub.port}/link/?ticket=")
        with connect(url, open_timeout=5) as ws:
            hello = json.loads(ws.recv(timeout=5))
            assert hello["type"] == "hello" and hello["num_connections"] == 1
            assert hello["debug_info"]["approximate_connection_time"] > 0
            posted = slack(client, "chat.postMessage", channel=INCIDENTS, text="Search is down")
            env = json.loads(ws.recv(timeout=5))
            assert env["type"] == "events_api" and env["retry_attempt"] == 0
            assert env["payload"]["type"] == "event_callback"
            event = env["payload"]["event"]
            assert event["type"] == "message" and event["channel"] == INCIDENTS
            assert event["ts"] == posted["ts"] and event["text"] == "Search is down"
            # not acknowledged: sent again, marked as a retry; acknowledged: never again
            again = json.loads(ws.recv(timeout=5))
            assert again["envelope_id"] == env["envelope_id"] and again["retry_attempt"] == 1
            assert again["retry_reason"] == "timeout"
            ws.send(json.dumps({"envelope_id": env["envelope_id"]}))
            # a channel the bot is not in sends nothing; a reply and an edit do
            general = server.state.channel_by_name("general")
            assert general is not None
            server.state.post(general, server.state.person_message("U0SBXALICE1", "lunch?"))
            ch = server.state.channel_by_name("incidents")
            assert ch is not None
            reply = server.state.post(
                ch, server.state.person_message("U0SBXALICE1", "on it"), thread_ts=posted["ts"]
            )
            server.state.edit_message(ch, posted["ts"], "Search is down in the EU")
            server.state.delete_message(ch, reply["ts"])
            got = [json.loads(ws.recv(timeout=5)) for _ in range(3)]
            for e in got:
                ws.send(json.dumps({"envelope_id": e["envelope_id"]}))
            events = [e["payload"]["event"] for e in got]
            assert events[0]["thread_ts"] == posted["ts"] and events[0]["text"] == "on it"
            assert events[1]["subtype"] == "message_changed"
            assert events[1]["message"]["text"] == "Search is down in the EU"
            assert events[1]["message"]["edited"]["ts"] == events[1]["ts"]
            assert events[1]["previous_message"]["text"] == "Search is down"
            assert events[2]["subtype"] == "message_deleted"
            assert events[2]["deleted_ts"] == reply["ts"]
            time.sleep(1.0)  # nothing more comes: every envelope was acknowledged
            with pytest.raises(TimeoutError):
                ws.recv(timeout=0.2)
            # Slack refreshes the link: it says so, then closes
            hub.disconnect("refresh_requested")
            bye = json.loads(ws.recv(timeout=5))
            assert bye == {
                "type": "disconnect",
                "reason": "refresh_requested",
                "debug_info": bye["debug_info"],
            }
        # a ticket is good once; a refusing hub says 503
        with pytest.raises(InvalidStatus) as refused:
            connect(url, open_timeout=5)
        assert refused.value.response.status_code == 401
        hub.refuse_for(5)
        with pytest.raises(InvalidStatus) as refused:
            connect(slack(client, "apps.connections.open", APP)["url"], open_timeout=5)
        assert refused.value.response.status_code == 503
    stats = server.state.snapshot()["socket"]
    assert stats["connections_total"] == 1 and stats["refused"] == 1
    assert stats["sent"] == 5 and stats["resent"] == 1 and stats["acked"] == 4
    assert server.state.snapshot()["requests"]["slack:apps.connections.open"] == 3


def test_the_sandbox_stops_at_once_with_a_connection_open() -> None:
    srv = SandboxServer(scenario=None, tokens=TOKENS).start()
    assert srv.socket is not None
    with checked_client(srv.base_url) as client:
        url = slack(client, "apps.connections.open", APP)["url"]
    with connect(url, open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "hello"
        started = time.monotonic()
        srv.stop()
        assert time.monotonic() - started < 3
        thread = srv.socket._thread
        assert thread is not None and not thread.is_alive()
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)


def test_without_socket_mode_the_sandbox_refuses_to_open_one() -> None:
    with (
        SandboxServer(scenario=None, socket_mode=False, tokens=TOKENS) as srv,
        checked_client(srv.base_url) as client,
    ):
        assert srv.state.snapshot()["socket"] is None
        assert slack(client, "apps.connections.open", APP)["error"] == "forbidden_team"
        assert slack(client, "auth.test", SLACK_BOT)["ok"]


# -- cockpit against it ----------------------------------------------------------------------
class Feed:
    """The feed poller and Socket Mode as the remote side runs them, in real time."""

    def __init__(self, server: SandboxServer, *, app_token: str = "xapp-1-drill") -> None:
        self.server = server
        self.got: list[FeedMessage] = []
        self.arrived: dict[str, float] = {}
        self.transport = CheckedTransport()
        api = f"{server.base_url}/api"
        self.bot = SlackClient(api, "xoxb-cockpit-test", transport=self.transport)
        self.app = SlackClient(api, app_token, transport=self.transport)
        self.poller = FeedPoller(self.bot, self.take)
        self.socket = SlackSocket(
            self.app,
            self.poller.take_messages,
            on_live=self.poller.set_live,
            before_open=self.poller.spend_open,
        )
        self.tasks: list[asyncio.Task[None]] = []

    def take(self, messages: list[FeedMessage]) -> None:
        now = time.monotonic()
        for m in messages:
            self.arrived.setdefault(m.ts, now)
        self.got.extend(messages)

    def shown(self, ts: str) -> list[FeedMessage]:
        return [m for m in self.got if m.ts == ts]

    async def __aenter__(self) -> Feed:
        self.tasks = [
            asyncio.create_task(self.poller.run()),
            asyncio.create_task(self.socket.run()),
        ]
        await until(lambda: self.socket.live)
        await until(lambda: self.poller.stats.total_requests >= 5)  # first fetches done
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.socket.stop()
        self.poller.stop()
        await asyncio.wait_for(self.tasks[1], 3)
        self.tasks[0].cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.bot.aclose()
        await self.app.aclose()


async def test_a_posted_message_arrives_through_the_socket_in_well_under_a_second(
    server: SandboxServer,
):
    async with Feed(server) as feed:
        # a new author's first message may wait a moment for the budget, for the name
        first = await asyncio.to_thread(post, server, "checkout errors")
        await until(lambda: feed.shown(first), 5.0)
        assert feed.shown(first)[0].author == "benji"
        lags = []
        for i in range(5):
            started = time.monotonic()
            ts = await asyncio.to_thread(post, server, f"checkout errors ({i})")
            await until(lambda ts=ts: feed.shown(ts), 2.0)
            lags.append(feed.arrived[ts] - started)
        # an alert bot's message with its attachment, in #alerts
        alerts = server.state.channel_by_name("alerts")
        assert alerts is not None
        bot = server.state.bots["datadog"]
        alert = server.state.post(
            alerts,
            server.state.bot_message(
                bot, "", [{"title": "[Triggered] checkout-api 5xx", "text": "p99 > 2 s"}]
            ),
        )
        await until(lambda: feed.shown(alert["ts"]), 2.0)
        (shown,) = feed.shown(alert["ts"])
        assert shown.is_alert and shown.author == "Datadog"
        assert "[Triggered] checkout-api 5xx" in shown.text
        assert max(lags) < 0.5, lags
        assert feed.poller.stats.pushed >= 6
        stats = server.state.snapshot()["socket"]
        assert stats["sent"] == stats["acked"] >= 6 and stats["dropped"] == 0
        assert "apps.connections.open" in feed.transport.methods


async def test_a_forced_disconnect_then_the_messages_posted_meanwhile_come_once(
    server: SandboxServer,
):
    hub = server.socket
    assert hub is not None
    hub.resend_after = 3.0  # as Slack: what was not acknowledged is sent again for a while
    async with Feed(server) as feed:
        # longer than MIN_OPEN_GAP and a budget wait: the first tries are turned away
        hub.refuse_for(6.0)
        assert await asyncio.to_thread(hub.disconnect, "refresh_requested") == 1
        await until(lambda: not feed.socket.live, 3)
        posted = [await asyncio.to_thread(post, server, f"while away {i}") for i in range(3)]
        assert not feed.socket.live
        await until(lambda: feed.socket.live, 15)  # after the refusals, with backoff
        assert (
            feed.socket.status.connections == 2
            and server.state.snapshot()["socket"]["refused"] >= 1
        )
        await until(lambda: all(feed.shown(ts) for ts in posted), 10)
        # each came both ways: polled while the socket was down (at polling's own pace
        # again at once), and re-sent by Slack once a connection was back
        await until(lambda: feed.poller.stats.duplicates >= len(posted), 10)
        assert server.state.snapshot()["socket"]["resent"] >= len(posted)
        after = await asyncio.to_thread(post, server, "after the reconnect")
        await until(lambda: feed.shown(after), 2)
        await asyncio.sleep(1.0)
        for ts in [*posted, after]:
            versions = feed.shown(ts)
            # once; a second time only to name its author, not known yet the first time
            renamed = len(versions) == 2 and versions[0].author != versions[1].author
            assert len(versions) == 1 or renamed, ts


async def test_an_event_slack_loses_is_caught_by_the_safety_net(
    server: SandboxServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(feed_mod, "LIVE_PERIOD", 2.0)
    hub = server.socket
    assert hub is not None
    async with Feed(server) as feed:
        hub.lose_next(1)
        lost = await asyncio.to_thread(post, server, "never pushed")
        await until(lambda: feed.shown(lost), 8)
        assert server.state.snapshot()["socket"]["lost"] == 1
        assert len(feed.shown(lost)) == 1 and feed.poller.stats.pushed == 0


class VirtualTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


def max_per_minute(times: list[float]) -> int:
    return max((sum(1 for t in times if s <= t < s + 60) for s in times), default=0)


async def test_requests_a_minute_stay_low_while_the_socket_is_up(server: SandboxServer):
    """Five virtual minutes of polling with the socket up, then with it down: the budget's
    use drops from most of it to a safety net of about one request per channel a minute."""
    vt = VirtualTime()
    # Slack's own rate limits, on the same virtual clock: cockpit keeps within them
    server.slack.limiter = RateLimiter(clock=vt.clock)
    transport = CheckedTransport()
    api = f"{server.base_url}/api"
    bot = SlackClient(api, "xoxb-cockpit-test", transport=transport)
    app = SlackClient(api, "xapp-1-drill", transport=transport)
    got: list[FeedMessage] = []
    poller = FeedPoller(bot, got.extend, clock=vt.clock, sleep=vt.sleep)
    poller.watch_channels(["incident-7"])  # not created yet: looked for now and then
    socket = SlackSocket(
        app, poller.take_messages, on_live=poller.set_live, before_open=poller.spend_open
    )
    task = asyncio.create_task(socket.run())
    try:
        await until(lambda: socket.live)
        start = vt.now
        while vt.now < start + 300:
            await poller.step()
        live = [t for t in poller.stats.requests if t >= start + 60]
        pushed = await asyncio.to_thread(post, server, "pushed, not polled")
        await until(lambda: any(m.ts == pushed for m in got), 2)
        socket.stop()
        await asyncio.wait_for(task, 3)
        assert not poller.live
        start = vt.now
        while vt.now < start + 300:
            await poller.step()
        polling = [t for t in poller.stats.requests if t >= start + 60]
    finally:
        socket.stop()
        await asyncio.gather(task, return_exceptions=True)
        await bot.aclose()
        await app.aclose()
    assert max_per_minute(live) <= 4  # #incidents, #alerts, a listing for incident-7
    assert max_per_minute(polling) >= 15  # polling alone uses most of the budget
    assert max_per_minute(polling) <= 25


# -- the remote side as the app runs it --------------------------------------------------------
def run_until_stopped(remote: Remote, **kwargs: Any) -> None:
    """`run_forever` as the app's thread worker runs it (stop() cancels its loop)."""
    with contextlib.suppress(asyncio.CancelledError):
        remote.run_forever(**kwargs)


def run_remote(
    server: SandboxServer,
    tmp_path: Path,
    tokens: dict[str, str],
    before_start: Callable[[Remote], None] | None = None,
) -> tuple[Remote, list[FeedMessage], threading.Thread, Store]:
    config = tmp_path / "config.toml"
    config.write_text(f'[slack]\napi_url = "{server.base_url}/api"\n')
    settings = load_settings(config, {"COCKPIT_USER": "ada", "COCKPIT_TIMEZONE": "UTC"})
    services = build_services(
        settings,
        tmp_path / "data",
        clock=SystemClock(),
        token=tokens.get,
        client_options={"transport": CheckedTransport()},
    )
    store = services.store
    got: list[FeedMessage] = []
    lock = threading.Lock()

    def deliver(messages: list[FeedMessage]) -> None:
        with lock:
            got.extend(messages)

    remote = services.remote
    assert remote is not None
    if before_start is not None:
        before_start(remote)
    thread = threading.Thread(
        target=run_until_stopped,
        args=(remote,),
        kwargs={
            "deliver": deliver,
            "on_change": lambda _id: None,
            "on_status": lambda _s: None,
            "quiet_alerts": lambda: False,
        },
        daemon=True,
    )
    thread.start()
    return remote, got, thread, store


def wait(cond: Callable[[], object], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_remote_side_runs_socket_mode_with_an_app_token(server: SandboxServer, tmp_path: Path):
    tokens = {"slack": "xoxb-remote", "slack-app": "xapp-1-remote"}
    remote, got, thread, store = run_remote(server, tmp_path, tokens)
    try:
        wait(lambda: remote.feed_state().mode == "connected", 10)
        assert remote.feed_state().live and "as they are posted" in remote.feed_state().detail
        wait(lambda: remote.poller is not None and remote.poller.stats.total_requests >= 4, 10)
        first = post(server, "payments down")  # its author's name is looked up first
        wait(lambda: any(m.ts == first for m in list(got)), 5)
        started = time.monotonic()
        ts = post(server, "payments down, pushed")
        wait(lambda: any(m.ts == ts for m in list(got)), 2)
        assert time.monotonic() - started < 1.0
        hub = server.socket
        assert hub is not None
        hub.disconnect(None)  # the network cut: no word from Slack
        wait(lambda: remote.feed_state().mode == "reconnecting", 5)
        assert "polling only" in remote.feed_state().detail
        wait(lambda: remote.feed_state().mode == "connected", 10)
    finally:
        started = time.monotonic()
        remote.stop()
        thread.join(5)
        store.close()
    assert not thread.is_alive() and time.monotonic() - started < 3
    wait(lambda: server.state.snapshot()["socket"]["connections_open"] == 0, 3)


def test_without_an_app_token_the_feed_polls_as_before(server: SandboxServer, tmp_path: Path):
    remote, got, thread, store = run_remote(server, tmp_path, {"slack": "xoxb-remote"})
    try:
        wait(lambda: remote.poller is not None and remote.poller.stats.total_requests >= 4, 10)
        state = remote.feed_state()
        assert state.mode == "polling" and not state.live
        assert "cockpit auth set slack-app" in state.detail and "10 s" in state.detail
        assert remote.socket is None
        ts = post(server, "payments down, polled")
        wait(lambda: any(m.ts == ts for m in list(got)), 10)
        assert remote.poller is not None and not remote.poller.live
        assert remote.poller.stats.pushed == 0
    finally:
        remote.stop()
        thread.join(5)
        store.close()
    assert not thread.is_alive()
    snap = server.state.snapshot()
    assert snap["socket"]["connections_total"] == 0
    assert "slack:apps.connections.open" not in snap["requests"]


def test_socket_mode_off_in_the_config_polls(server: SandboxServer, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[slack]\napi_url = "{server.base_url}/api"\nsocket_mode = false\n')
    settings = load_settings(config, {"COCKPIT_USER": "ada", "COCKPIT_TIMEZONE": "UTC"})
    assert settings.slack is not None and settings.slack.socket_mode is False
    asked: list[str] = []

    def token(name: str) -> str | None:
        asked.append(name)
        return {"slack": "xoxb-x", "slack-app": "xapp-x"}.get(name)

    services = build_services(settings, tmp_path / "data", clock=SystemClock(), token=token)
    store = services.store
    remote = services.remote
    assert remote is not None
    thread = threading.Thread(
        target=run_until_stopped,
        args=(remote,),
        kwargs={
            "deliver": lambda _m: None,
            "on_change": lambda _id: None,
            "on_status": lambda _s: None,
            "quiet_alerts": lambda: False,
        },
        daemon=True,
    )
    thread.start()
    try:
        wait(lambda: remote.poller is not None, 5)
        wait(lambda: remote.feed_state().mode == "polling", 5)
        assert "socket_mode = false" in remote.feed_state().detail
        assert "slack-app" not in asked and remote.socket is None
    finally:
        remote.stop()
        thread.join(5)
        store.close()


def test_the_incident_shown_before_the_remote_side_ran_gets_its_channel_watched(
    server: SandboxServer, tmp_path: Path
) -> None:
    """The app shows its first incident before it starts the remote side (after its first
    frame): that incident's channel is still the one polled often."""
    from cockpit.domain.incident import Incident, Link, Links
    from cockpit.integrations.feed import OTHER_CHANNEL_PERIOD

    at = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    shown = Incident(
        id="7",
        title="checkout is down",
        first_reported_at=at,
        created_at=at,
        links=Links(channel=Link("https://slack.example/archives/C7", "incident-7")),
    )
    remote, _got, thread, store = run_remote(
        server, tmp_path, {"slack": "xoxb-remote"}, before_start=lambda r: r.changed(shown)
    )
    try:
        wait(lambda: remote.poller is not None and "incident-7" in remote.poller.channels, 10)
        assert remote.poller is not None
        channel = remote.poller.channels["incident-7"]
        assert channel.period == remote.poller.channel_period < OTHER_CHANNEL_PERIOD
    finally:
        remote.stop()
        thread.join(5)
        store.close()
