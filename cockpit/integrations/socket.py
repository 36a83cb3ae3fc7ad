"""Slack Socket Mode: new messages pushed to cockpit over a WebSocket as they are posted.

Polling alone cannot give both "at most 25 requests a minute" and "new messages on screen
within 5 s" for three channels or more (DESIGN.md §7). With an app-level token (`xapp-…`,
scope connections:write; Socket Mode and the `message.channels` / `message.groups` event
subscriptions turned on in the app's settings), Slack pushes every message of the
channels the bot is in:

1. `apps.connections.open` (POST, the app token) answers a one-time `wss://` URL;
2. the WebSocket opens and Slack says `{"type": "hello", "num_connections": N,
   "debug_info": {"approximate_connection_time": S, …}}`;
3. events come as envelopes `{"envelope_id", "type": "events_api", "payload": {"event":
   {…}, "event_id", …}, "accepts_response_payload", "retry_attempt", "retry_reason"}`.
   Every envelope, of whatever type, is acknowledged at once by sending
   `{"envelope_id": "…"}`; one that is not is sent again by Slack a few seconds later
   (`event_id`s already seen are skipped);
4. Slack ends connections now and then: `{"type": "disconnect", "reason":
   "refresh_requested" | "warning" | "link_disabled" | "too_many_websockets"}`.

`SlackSocket` keeps one connection up. It connects again at once after a refresh or a
warning, after `BACKOFF_BASE`·2ⁿ seconds with jitter (at most `BACKOFF_MAX`) after a
failure, after `DISABLED_RETRY` when Socket Mode is turned off for the app, and never
opens URLs faster than one per `MIN_OPEN_GAP` (`apps.connections.open` is rate limited
too; each open also goes through `before_open`, the feed's request budget). A refused
token (invalid_auth, not_allowed_token_type, …) ends it for good: the feed keeps polling.
Every await has a deadline of its own (the open call, the connect, Slack's hello, each
acknowledgement, the close; a connection quiet for `IDLE` seconds is pinged), and `stop()`
ends `run()` at once without leaving a task behind.

What it hands on: `on_live(True)` once Slack said hello (the feed poller then slows to a
safety net and fetches each channel once from where it was, so nothing sent while the
socket was down is lost), `on_live(False)` as soon as the connection is gone, and batches
of `(channel id, raw message)` for `on_messages`. `message_of` normalises `message`
events (an edit becomes the edited message, a deletion a tombstone at the deleted ts);
the feed poller turns them into FeedMessages the same way as polled history (its
source's `feed_message`), where the hostile text is sanitized. `status` (a `SocketStatus`)
says where it stands, for the UI. The connection URL comes from a `PushSource`
(source.py; Slack's client with the app-level token).

No Textual here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol, TypeVar

from cockpit.integrations.errors import RemoteError, shorten
from cockpit.integrations.source import PushSource

log = logging.getLogger("cockpit.socket")

CONNECT_DEADLINE = 15.0  # the WebSocket handshake, as a whole
HELLO_DEADLINE = 10.0  # Slack says hello at once; silence after connecting is a failure
ACK_DEADLINE = 5.0  # sending one acknowledgement (Slack wants it within 3 s of sending)
CLOSE_DEADLINE = 1.0  # the closing handshake (Slack does not always answer it)
IDLE = 60.0  # a connection silent this long is pinged …
PING_DEADLINE = 15.0  # … and given up when no pong comes back in this time
MIN_OPEN_GAP = 2.0  # seconds between two apps.connections.open calls, at least
BACKOFF_BASE = 1.0  # the first wait after a failure; doubles each time
BACKOFF_MAX = 120.0
DISABLED_RETRY = 600.0  # Socket Mode turned off in the app's settings: look again later
BATCH_WINDOW = 0.05  # events arriving this close together are handed on as one batch
MAX_FRAME = 8 * 1024 * 1024  # a 40,000-character message with blocks fits many times
RECENT_EVENTS = 5000  # event ids remembered, to skip envelopes Slack sends again

# Refusals that trying again cannot mend: the token or the workspace is the problem.
FATAL_CODES = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "not_allowed_token_type",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "missing_scope",
        "no_permission",
        "forbidden_team",
        "missing_args",
    }
)

State = Literal["connecting", "connected", "reconnecting", "failed", "stopped"]
T = TypeVar("T")
Message = tuple[str, dict[str, Any]]  # (channel id, raw Slack message)


@dataclass(frozen=True)
class SocketStatus:
    """Where the connection stands. `detail` is plain words (why it is not connected, or
    what Slack said); `since` is the clock time of the last change of `state`."""

    state: State
    detail: str = ""
    since: float = 0.0
    connections: int = 0  # connections that got as far as Slack's hello
    envelopes: int = 0  # envelopes received (every one with an id acknowledged)
    events: int = 0  # message events handed on
    num_connections: int = 0  # the app's open connections, as Slack counted at hello
    refresh_in: float | None = None  # Slack's approximate_connection_time, seconds


class Connection(Protocol):
    """What `SlackSocket` needs of a WebSocket (websockets' ClientConnection has it)."""

    async def recv(self) -> str | bytes: ...

    async def send(self, message: str) -> None: ...

    async def ping(self) -> Awaitable[float]: ...

    async def close(self) -> None: ...


Connect = Callable[[str], Awaitable[Connection]]


async def websocket_connect(url: str) -> Connection:
    """Open `url` with the websockets library (imported here: only a running feed needs
    it). Its keepalive pings every 20 s close a connection that stops answering."""
    from websockets.asyncio.client import connect

    conn = await connect(
        url,
        open_timeout=CONNECT_DEADLINE,
        ping_interval=20.0,
        ping_timeout=20.0,
        close_timeout=CLOSE_DEADLINE,
        max_size=MAX_FRAME,
        user_agent_header="cockpit",
    )
    return conn


# -- the wire -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Envelope:
    """One frame from Slack. `envelope_id` is "" for frames that need no acknowledgement
    (hello, disconnect)."""

    type: str
    envelope_id: str
    payload: Mapping[str, Any]
    body: Mapping[str, Any]


def parse_envelope(frame: str | bytes) -> Envelope | None:
    """The envelope in a text frame, or None when the frame is not a JSON object."""
    if isinstance(frame, bytes):
        try:
            frame = frame.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        doc = json.loads(frame)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    eid = doc.get("envelope_id")
    payload = doc.get("payload")
    kind = doc.get("type")
    return Envelope(
        type=kind if isinstance(kind, str) else "",
        envelope_id=eid if isinstance(eid, str) else "",
        payload=payload if isinstance(payload, dict) else {},
        body=doc,
    )


def ack_frame(envelope_id: str) -> str:
    return json.dumps({"envelope_id": envelope_id})


_CONTENT = ("text", "attachments", "blocks", "files")


def message_of(event: Mapping[str, Any]) -> Message | None:
    """`(channel id, message)` for a `message` event, shaped as history returns it, or None
    for events the feed does not show.

    * `message_changed`: the edited message itself (same ts, so it replaces the one shown),
      marked `edited` when its content changed; Slack also sends message_changed when only
      a thread's reply count changed (dropped) or a link was unfurled (only attachments
      added: passed on, not marked edited);
    * `message_deleted`: a tombstone at the deleted message's ts ("(message deleted)");
    * other hidden subtypes (message_replied, …) are dropped; everything else (bot
      messages with attachments, thread replies, thread_broadcast, joins, files) is the
      message as it is.
    """
    if event.get("type") != "message":
        return None
    channel = event.get("channel")
    if not isinstance(channel, str) or not channel:
        return None
    subtype = event.get("subtype")
    if subtype == "message_changed":
        inner = event.get("message")
        if not isinstance(inner, dict) or not isinstance(inner.get("ts"), str):
            return None
        before = event.get("previous_message")
        changed = not isinstance(before, Mapping) or any(
            inner.get(k) != before.get(k) for k in _CONTENT
        )
        if not changed:
            return None
        raw = dict(inner)
        unfurl = isinstance(before, Mapping) and all(
            inner.get(k) == before.get(k) for k in _CONTENT if k != "attachments"
        )
        if not isinstance(raw.get("edited"), Mapping) and not unfurl:
            raw["edited"] = {"ts": str(event.get("event_ts") or event.get("ts") or "")}
        return channel, raw
    if subtype == "message_deleted":
        ts = event.get("deleted_ts")
        if not isinstance(ts, str):
            return None
        tomb: dict[str, Any] = {"type": "message", "subtype": "message_deleted", "ts": ts}
        before = event.get("previous_message")
        if isinstance(before, dict):
            tomb["previous_message"] = before
            if isinstance(before.get("thread_ts"), str):
                tomb["thread_ts"] = before["thread_ts"]
        return channel, tomb
    if event.get("hidden") or not isinstance(event.get("ts"), str):
        return None
    raw = {k: v for k, v in event.items() if k not in ("channel", "channel_type", "event_ts")}
    return channel, raw


# -- the connection -------------------------------------------------------------------------
class _Stopped(Exception):
    """stop() was called: leave at once."""


class _GiveUp(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class SlackSocket:
    """One Socket Mode connection, kept up until `stop()`. Run `run()` as a task."""

    def __init__(
        self,
        app: PushSource,
        on_messages: Callable[[list[Message]], Awaitable[object]],
        *,
        on_live: Callable[[bool], None] = lambda _live: None,
        on_status: Callable[[SocketStatus], None] = lambda _s: None,
        before_open: Callable[[], Awaitable[None]] | None = None,
        connect: Connect = websocket_connect,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        idle: float = IDLE,
        batch_window: float = BATCH_WINDOW,
    ) -> None:
        self.app = app
        self.on_messages = on_messages
        self.on_live = on_live
        self.on_status = on_status
        self.before_open = before_open
        self.connect = connect
        self.clock, self.sleep, self.rng = clock, sleep, rng
        self.idle = idle
        self.batch_window = batch_window
        self.status = SocketStatus("connecting", since=clock())
        self.live = False  # connected, and Slack said hello
        self.failures = 0  # failed attempts in a row
        self._stop_asked = False
        self._stopping: asyncio.Future[None] | None = None
        self._wake: asyncio.Event | None = None
        self._pending: list[Message] = []
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._last_open = float("-inf")

    # -- control -------------------------------------------------------------------------
    def stop(self) -> None:
        """End `run()` (call it on the loop's thread: `loop.call_soon_threadsafe`)."""
        self._stop_asked = True
        if self._stopping is not None and not self._stopping.done():
            self._stopping.set_result(None)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self._stopping = loop.create_future()
        if self._stop_asked:
            self._stopping.set_result(None)
        self._wake = asyncio.Event()
        deliverer = asyncio.create_task(self._deliver_loop(), name="slack-socket-deliver")
        try:
            while not self._stopping.done():
                try:
                    delay = await self._session()
                    if delay > 0:
                        await self._race(self.sleep(delay), None)
                except _Stopped:
                    break
                except _GiveUp as e:
                    self._set("failed", e.detail)
                    log.warning("Socket Mode given up: %s", e.detail)
                    break
        finally:
            self._going_down()
            deliverer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await deliverer
            if self.status.state != "failed":
                self._set("stopped", "")

    # -- one connection --------------------------------------------------------------------
    async def _session(self) -> float:
        """One connection from its URL to its end; returns how long to wait before the next."""
        if self.status.state not in ("connecting", "reconnecting"):
            self._set("reconnecting", self.status.detail)
        gap = self._last_open + MIN_OPEN_GAP - self.clock()
        if gap > 0:
            await self._race(self.sleep(gap), None)
        if self.before_open is not None:
            await self._race(self.before_open(), None)
        self._last_open = self.clock()
        try:  # the client bounds the call as a whole and retries what may be retried
            url = await self._race(self.app.open_socket(), None)
        except RemoteError as e:
            if e.code in FATAL_CODES:
                raise _GiveUp(f"Slack {e.what}" + (f" ({e.code})" if e.code else "")) from None
            return self._failed(f"could not get a connection URL: {e.what}", e.retry_after)
        try:
            conn = await self._race(self.connect(url), CONNECT_DEADLINE)
        except TimeoutError:
            return self._failed(f"no connection within {CONNECT_DEADLINE:g} s")
        except (_Stopped, _GiveUp):
            raise
        except Exception as e:  # refused, reset, a handshake error, DNS, TLS …
            return self._failed(f"could not connect ({_describe(e)})")
        try:
            return await self._read(conn)
        finally:
            self._going_down()
            await _close(conn)

    async def _read(self, conn: Connection) -> float:
        while True:
            try:
                frame = await self._race(conn.recv(), self.idle if self.live else HELLO_DEADLINE)
            except TimeoutError:
                if not self.live:
                    return self._failed(f"Slack did not say hello within {HELLO_DEADLINE:g} s")
                if await self._answers_ping(conn):
                    continue
                return self._dropped("the connection stopped answering")
            except _Stopped:
                raise
            except Exception as e:  # ConnectionClosed, a reset, …
                return self._dropped(f"the connection closed ({_describe(e)})")
            env = parse_envelope(frame)
            if env is None:
                log.info("Socket Mode: a frame that is not a JSON object, ignored")
                continue
            self.status = replace(self.status, envelopes=self.status.envelopes + 1)
            if env.envelope_id:  # first: Slack sends it again if not acknowledged in time
                try:
                    await self._race(conn.send(ack_frame(env.envelope_id)), ACK_DEADLINE)
                except _Stopped:
                    raise
                except Exception as e:
                    return self._dropped(f"an acknowledgement could not be sent ({_describe(e)})")
            if env.type == "hello":
                self._hello(env)
            elif env.type == "disconnect":
                return self._disconnect(env)
            elif env.type == "events_api":
                self._event(env)
            # anything else (slash_commands, interactive, …) is acknowledged, not used

    async def _answers_ping(self, conn: Connection) -> bool:
        try:
            pong = await self._race(conn.ping(), PING_DEADLINE)
            await self._race(pong, PING_DEADLINE)
        except _Stopped:
            raise
        except Exception:
            return False
        return True

    # -- what Slack says -------------------------------------------------------------------
    def _hello(self, env: Envelope) -> None:
        body = env.body
        num = body.get("num_connections")
        debug = body.get("debug_info")
        refresh = debug.get("approximate_connection_time") if isinstance(debug, dict) else None
        self.failures = 0
        self.status = replace(
            self.status,
            connections=self.status.connections + 1,
            num_connections=num if isinstance(num, int) and not isinstance(num, bool) else 0,
            refresh_in=float(refresh)
            if isinstance(refresh, int | float) and not isinstance(refresh, bool)
            else None,
        )
        self._set("connected", "")
        if not self.live:
            self.live = True
            self.on_live(True)

    def _disconnect(self, env: Envelope) -> float:
        reason = shorten(str(env.body.get("reason") or "unknown"), 40)
        log.info("Socket Mode: Slack ends the connection (%s)", reason)
        if reason in ("refresh_requested", "warning"):
            self.failures = 0
            self._set("reconnecting", f"Slack refreshes the connection ({reason})")
            return 0.0
        if reason == "link_disabled":
            self.failures = 0
            self._set(
                "reconnecting",
                "Socket Mode is turned off in the Slack app's settings; "
                f"looking again in {DISABLED_RETRY / 60:.0f} min",
            )
            return DISABLED_RETRY
        return self._failed(f"Slack ended the connection ({reason})")

    def _event(self, env: Envelope) -> None:
        event = env.payload.get("event")
        if not isinstance(event, dict):
            return
        event_id = env.payload.get("event_id")
        if isinstance(event_id, str) and event_id:
            if event_id in self._recent:
                return  # sent again (retry_attempt > 0): handed on already
            self._recent[event_id] = None
            while len(self._recent) > RECENT_EVENTS:
                self._recent.popitem(last=False)
        found = message_of(event)
        if found is None:
            return
        self._pending.append(found)
        self.status = replace(self.status, events=self.status.events + 1)
        if self._wake is not None:
            self._wake.set()

    async def _deliver_loop(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.batch_window > 0:
                await self.sleep(self.batch_window)
            batch, self._pending = self._pending, []
            if not batch:
                continue
            try:
                await self.on_messages(batch)
            except asyncio.CancelledError:
                raise
            except Exception:  # never let the feed die silently
                log.exception("Socket Mode: handing on %d messages failed", len(batch))

    # -- state -----------------------------------------------------------------------------
    def _set(self, state: State, detail: str) -> None:
        if state != self.status.state or detail != self.status.detail:
            since = self.clock() if state != self.status.state else self.status.since
            self.status = replace(self.status, state=state, detail=detail, since=since)
            log.info("Socket Mode: %s%s", state, f" ({detail})" if detail else "")
            self.on_status(self.status)

    def _going_down(self) -> None:
        if self.live:
            self.live = False
            self.on_live(False)

    def _failed(self, detail: str, retry_after: float | None = None) -> float:
        """A failed attempt: wait BACKOFF_BASE·2ⁿ (jittered, at most BACKOFF_MAX)."""
        self.failures += 1
        delay = min(BACKOFF_MAX, BACKOFF_BASE * 2.0 ** (self.failures - 1))
        delay *= 0.5 + 0.5 * float(self.rng())
        if retry_after:
            delay = max(delay, retry_after)
        self._set("reconnecting", f"{detail}; trying again in {delay:.0f} s")
        return delay

    def _dropped(self, detail: str) -> float:
        """A connection that was up ended: connect again soon (jittered, so a fleet of
        cockpits does not come back at once); one that never got a hello is a failure."""
        if not self.live:
            return self._failed(detail)
        self.failures = 0
        self._set("reconnecting", detail)
        return BACKOFF_BASE * float(self.rng())

    # -- awaiting with a deadline, or until stop() -------------------------------------------
    async def _race(self, aw: Awaitable[T], timeout: float | None) -> T:
        """`aw`'s result; TimeoutError after `timeout` seconds; `_Stopped` if stop() comes
        first. Whatever is left over is cancelled and awaited: nothing leaks."""
        stopping = self._stopping
        assert stopping is not None
        if stopping.done():
            if asyncio.iscoroutine(aw):
                aw.close()
            raise _Stopped
        task = asyncio.ensure_future(aw)
        try:
            done, _ = await asyncio.wait(
                (task, stopping), timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        except BaseException:
            await _reap(task)
            raise
        if task in done:
            return task.result()
        await _reap(task)
        if stopping.done():
            raise _Stopped
        raise TimeoutError


async def _reap(task: asyncio.Future[Any]) -> None:
    """Cancel `task` and wait for it to end (its own error, if any, is dropped)."""
    if not task.done():
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def _close(conn: Connection) -> None:
    try:
        async with asyncio.timeout(CLOSE_DEADLINE):
            await conn.close()
    except Exception:  # already closed, or the peer never answered: it is gone either way
        pass


def _describe(e: BaseException) -> str:
    """An exception in a few safe words (no URL: it carries a connection ticket)."""
    name = type(e).__name__
    status = getattr(getattr(e, "response", None), "status_code", None)  # InvalidStatus
    code = getattr(getattr(e, "rcvd", None), "code", None)  # ConnectionClosed: the close frame
    if isinstance(status, int):
        return f"{name}: HTTP {status}"
    if isinstance(code, int):
        return f"{name}: close code {code}"
    return name
