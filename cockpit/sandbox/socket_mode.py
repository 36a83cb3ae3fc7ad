"""The drill range's Socket Mode: Slack pushing message events over a WebSocket.

`apps.connections.open` (slack_api.py; an app-level `xapp-…` token only) answers
`ws://HOST:PORT/link/?ticket=…&app_id=…` from `SocketHub.open_url`; a ticket is good for
one connection within `ticket_ttl` seconds. The hub runs websockets' asyncio server on a
thread and event loop of its own, on the HTTP server's loopback host (another port):

* a new connection gets `hello` (`num_connections`, `debug_info` with
  `approximate_connection_time`, `connection_info.app_id`) first;
* every message stored in the state (`SandboxState.post`: people, bots, scenarios, the
  Web API; `edit_message`, `delete_message`) in a channel the cockpit bot is a member of
  becomes an `events_api` envelope carrying the `message` event Slack sends for the
  message.channels / message.groups subscriptions, sent to one open connection (in turn,
  as Slack spreads events over an app's connections);
* each envelope waits for its acknowledgement, `{"envelope_id": …}`. One not
  acknowledged within `resend_after` seconds is sent again (`retry_attempt` + 1,
  `retry_reason` "timeout"), also when no connection was open (once a client has
  connected at all), at most `max_retries` times; then it is dropped and its id kept in
  the figures as unacknowledged (polling has to catch it up);
* faults, for tests and trainers: `disconnect(reason)` sends `{"type": "disconnect",
  "reason": …}` to every connection and closes them (`refresh_requested`, `warning`,
  `link_disabled`, `too_many_websockets`; `None` cuts them without a word);
  `refuse_for(seconds)` turns new connections away (HTTP 503); `lose_next(n)` drops the
  next n events unsent, as if Slack had lost them.

`stats()` (also in `state.snapshot()["socket"]` and `GET /_sandbox/state`): connections
open and made in all, envelopes sent, acknowledged, sent again, dropped, lost and refused
handshakes, and the ids still unacknowledged. `stop()` closes every connection and ends
the thread. The websockets library is imported when the hub starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cockpit.sandbox.state import APP_ID, BOT_USER_ID, JSON, TEAM_ID, Channel, SandboxState

log = logging.getLogger("cockpit.sandbox")

HELLO_DEBUG = {"host": "applink-drill-range", "build_number": 1}
CONNECTION_TIME = 18060  # what Slack says in hello: seconds until it refreshes the link
UNACKED_KEPT = 200


@dataclass
class _Pending:
    envelope_id: str
    event_id: str
    event_json: str  # the event, serialized when it happened
    attempts: int = 0  # sends tried (one with no connection open counts)
    last: float = 0.0  # when the last one was tried
    unsent: bool = False  # the last try found no connection open


class _Conn:
    def __init__(self, n: int, ws: Any) -> None:
        self.n, self.ws = n, ws


class SocketHub:
    def __init__(
        self,
        state: SandboxState,
        host: str = "127.0.0.1",
        *,
        resend_after: float = 3.0,
        max_retries: int = 3,
        ticket_ttl: float = 60.0,
        close_after: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.state = state
        self.host = host
        self.port = 0
        self.resend_after = resend_after
        self.max_retries = max_retries
        self.ticket_ttl = ticket_ttl
        self.close_after = close_after
        self._clock = clock
        self._lock = threading.Lock()  # tickets, inbox, faults, figures (any thread)
        self._tickets: dict[str, float] = {}
        self._inbox: deque[str] = deque()
        self._wake_scheduled = False
        self._refuse_until = float("-inf")
        self._lose = 0
        self._stats: JSON = {
            "connections_open": 0,
            "connections_total": 0,
            "refused": 0,
            "sent": 0,
            "acked": 0,
            "resent": 0,
            "dropped": 0,
            "lost": 0,
            "unacked": [],
        }
        # the loop thread's own
        self._conns: list[_Conn] = []
        self._pending: dict[str, _Pending] = {}
        self._turn = itertools.count()
        self._closing: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._done: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> SocketHub:
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="sandbox-socket-mode", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None or not self.port:
            raise OSError(f"the Socket Mode server could not start: {self._error}")
        with self.state.lock:
            self.state.listeners.append(self._on_message)
            self.state.socket_stats = self.stats
        return self

    def stop(self) -> None:
        with self.state.lock:
            if self._on_message in self.state.listeners:
                self.state.listeners.remove(self._on_message)
        loop, done = self._loop, self._done
        if loop is not None and done is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended already
                loop.call_soon_threadsafe(done.set)
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}"

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as e:  # reported by start()
            self._error = e
            self._ready.set()
        finally:
            loop.close()

    async def _main(self) -> None:
        from websockets.asyncio.server import serve

        self._wake = asyncio.Event()
        self._done = asyncio.Event()
        async with serve(
            self._handler,
            self.host,
            0,
            process_request=self._check,
            ping_interval=20,
            close_timeout=1,
            max_size=1024 * 1024,
        ) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            workers = [
                asyncio.create_task(self._deliver_loop()),
                asyncio.create_task(self._resend_loop()),
            ]
            try:
                await self._done.wait()
            finally:
                for w in [*workers, *self._closing]:
                    w.cancel()
                await asyncio.gather(*workers, *self._closing, return_exceptions=True)
                for conn in list(self._conns):
                    conn.ws.transport.abort()

    # -- for apps.connections.open ---------------------------------------------------------
    def open_url(self) -> str:
        """A one-time connection URL (any thread)."""
        ticket = secrets.token_hex(12)
        now = self._clock()
        with self._lock:
            self._tickets = {t: exp for t, exp in self._tickets.items() if exp > now}
            self._tickets[ticket] = now + self.ticket_ttl
        return f"{self.url}/link/?ticket={ticket}&app_id={APP_ID}"

    # -- faults ----------------------------------------------------------------------------
    def disconnect(self, reason: str | None = "refresh_requested") -> int:
        """Tell every connection `{"type": "disconnect", "reason": reason}` and close it a
        moment later, as Slack does; `None` cuts them without a word. Returns how many."""
        loop = self._loop
        if loop is None:
            return 0
        fut = asyncio.run_coroutine_threadsafe(self._disconnect_all(reason), loop)
        return fut.result(timeout=5)

    def refuse_for(self, seconds: float) -> None:
        """Turn new connections away (HTTP 503 on the handshake) for `seconds`."""
        with self._lock:
            self._refuse_until = self._clock() + seconds

    def lose_next(self, n: int) -> None:
        """Drop the next `n` events without sending them."""
        with self._lock:
            self._lose += n

    def stats(self) -> JSON:
        with self._lock:
            out = dict(self._stats)
            out["unacked"] = list(self._stats["unacked"])
            return out

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._stats[key] += n

    # -- the server -------------------------------------------------------------------------
    def _check(self, connection: Any, request: Any) -> Any:
        """The handshake: a known, unexpired ticket, once; none while refusing."""
        parts = urlsplit(request.path)
        ticket = (parse_qs(parts.query).get("ticket") or [""])[0]
        now = self._clock()
        with self._lock:
            if now < self._refuse_until:
                self._stats["refused"] += 1
                return connection.respond(503, "Socket Mode is unavailable for a moment\n")
            expires = self._tickets.pop(ticket, None)
        if parts.path.rstrip("/") != "/link" or expires is None or expires < now:
            return connection.respond(401, "unknown or expired ticket\n")
        return None

    async def _handler(self, ws: Any) -> None:
        conn = _Conn(next(self._ids), ws)
        hello = {
            "type": "hello",
            "num_connections": len(self._conns) + 1,
            "debug_info": {**HELLO_DEBUG, "approximate_connection_time": CONNECTION_TIME},
            "connection_info": {"app_id": APP_ID},
        }
        try:
            await ws.send(json.dumps(hello))
        except Exception:
            return
        self._conns.append(conn)
        with self._lock:
            self._stats["connections_total"] += 1
            self._stats["connections_open"] = len(self._conns)
        try:
            for p in [p for p in self._pending.values() if p.unsent]:
                await self._send(p)  # tried while no connection was open: now
            async for frame in ws:
                self._ack(frame)
        except Exception:  # the connection ended, however it ended
            pass
        finally:
            if conn in self._conns:
                self._conns.remove(conn)
            with self._lock:
                self._stats["connections_open"] = len(self._conns)

    def _ack(self, frame: str | bytes) -> None:
        try:
            doc = json.loads(frame)
        except (ValueError, TypeError):
            return
        eid = doc.get("envelope_id") if isinstance(doc, dict) else None
        if isinstance(eid, str) and self._pending.pop(eid, None) is not None:
            self._count("acked")

    # -- events -----------------------------------------------------------------------------
    def _on_message(self, channel: Channel, event: JSON) -> None:
        """A state listener (any thread, the state's lock held): queue the event."""
        if BOT_USER_ID not in channel.members:
            return  # the app only hears channels its bot is in
        text = json.dumps(event)  # now: the stored message changes later (reply counts)
        loop, wake = self._loop, self._wake
        with self._lock:
            self._inbox.append(text)
            schedule = not self._wake_scheduled
            self._wake_scheduled = True
        if schedule and loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the hub is stopping
                loop.call_soon_threadsafe(wake.set)

    async def _deliver_loop(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            with self._lock:
                events = list(self._inbox)
                self._inbox.clear()
                self._wake_scheduled = False
                lose = min(self._lose, len(events))
                self._lose -= lose
                self._stats["lost"] += lose
                ever = self._stats["connections_total"] > 0
            for event_json in events[lose:]:
                if not self._conns and not ever:
                    continue  # nobody has ever connected: nobody to send it to
                p = _Pending(uuid.uuid4().hex, "Ev" + secrets.token_hex(6).upper(), event_json)
                self._pending[p.envelope_id] = p
                await self._send(p)

    async def _send(self, p: _Pending) -> None:
        """One try at sending `p` (to the next open connection, in turn)."""
        p.attempts += 1
        p.last = self._clock()
        p.unsent = not self._conns
        if p.unsent:
            return
        conn = self._conns[next(self._turn) % len(self._conns)]
        try:
            await conn.ws.send(self._envelope(p))
        except Exception:  # it closed meanwhile: the next try goes elsewhere
            return
        self._count("sent")
        if p.attempts > 1:
            self._count("resent")

    def _envelope(self, p: _Pending) -> str:
        retry = p.attempts - 1
        head = json.dumps(
            {
                "envelope_id": p.envelope_id,
                "type": "events_api",
                "accepts_response_payload": False,
                "retry_attempt": retry,
                "retry_reason": "timeout" if retry else "",
            }
        )
        payload = json.dumps(
            {
                "token": "drill-range-verification",
                "team_id": TEAM_ID,
                "api_app_id": APP_ID,
                "type": "event_callback",
                "event_id": p.event_id,
                "event_time": int(time.time()),
                "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
                "is_ext_shared_channel": False,
            }
        )
        # the event goes in as serialized when it happened
        return head[:-1] + ', "payload": ' + payload[:-1] + ', "event": ' + p.event_json + "}}"

    async def _resend_loop(self) -> None:
        while True:
            await asyncio.sleep(min(0.25, self.resend_after / 4))
            now = self._clock()
            for p in list(self._pending.values()):
                if p.envelope_id not in self._pending or now - p.last < self.resend_after:
                    continue
                if p.attempts > self.max_retries:
                    del self._pending[p.envelope_id]
                    with self._lock:
                        self._stats["dropped"] += 1
                        unacked = self._stats["unacked"]
                        unacked.append(p.envelope_id)
                        del unacked[:-UNACKED_KEPT]
                    continue
                await self._send(p)

    async def _disconnect_all(self, reason: str | None) -> int:
        conns = list(self._conns)
        for conn in conns:
            if reason is None:
                conn.ws.transport.abort()
                continue
            with contextlib.suppress(Exception):
                await conn.ws.send(
                    json.dumps({"type": "disconnect", "reason": reason, "debug_info": HELLO_DEBUG})
                )
            if conn in self._conns:  # no more events for it
                self._conns.remove(conn)
            task = asyncio.create_task(_close_later(conn.ws, self.close_after))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        with self._lock:
            self._stats["connections_open"] = len(self._conns)
        return len(conns)


async def _close_later(ws: Any, delay: float) -> None:
    await asyncio.sleep(delay)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.close(), 2)
