"""The live feed: polls #incidents, #alerts and the incidents' own channels within a budget.

Slack gives an internal app about 50 `conversations.history` calls a minute, shared by
every cockpit using that app, so one cockpit keeps to `budget` requests a minute (25 by
default) counted over a sliding minute, never polls a channel more often than every
5 s, and waits out any Retry-After. Each channel is fetched from the newest message seen
(`oldest`), a page at a time; a backlog (an alert storm) is paged through over several
turns rather than in one burst. Threads with activity are watched for new replies.

No Textual: `deliver` is called with the new `FeedMessage`s (the app passes a function
that hands them to its UI thread).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cockpit.domain.feed import FeedMessage
from cockpit.integrations.errors import RemoteError
from cockpit.integrations.slack import SlackClient, to_feed_message, ts_key

log = logging.getLogger("cockpit.feed")

FIRST_FETCH = 50  # messages shown from a channel's history when cockpit starts
PAGE = 999  # Slack's largest history page
THREAD_PERIOD = 30.0  # how often a watched thread is asked for new replies
THREAD_WATCH = 3600.0  # how long a thread stays watched after its last activity
OTHER_CHANNEL_PERIOD = 60.0  # channels of open incidents other than the active one
BURST = 5  # requests that may go back to back (start-up: listing, joins, first pages)


@dataclass
class ChannelState:
    name: str
    period: float
    alert: bool = False
    fixed: bool = False  # #incidents and #alerts keep their own pace
    failures: int = 0
    id: str = ""
    oldest: str | None = None
    cursor: str | None = None
    newest_seen: str | None = None
    due: float = 0.0


@dataclass
class ThreadState:
    channel: ChannelState
    ts: str
    latest: str
    active_until: float
    due: float = 0.0
    failures: int = 0


@dataclass
class PollStats:
    requests: deque[float] = field(default_factory=deque)  # times of requests, last minute
    total_requests: int = 0
    delivered: int = 0
    last_error: str = ""


class FeedPoller:
    def __init__(
        self,
        slack: SlackClient,
        deliver: Callable[[list[FeedMessage]], None],
        *,
        incidents: str = "incidents",
        alerts: str = "alerts",
        budget: int = 25,
        incidents_period: float = 5.0,
        alerts_period: float = 10.0,
        channel_period: float = 7.5,
        quiet_alerts: Callable[[], bool] | None = None,
        on_status: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.slack = slack
        self.deliver = deliver
        self.budget = budget
        self.channel_period = max(5.0, channel_period)
        self.alerts_period = max(5.0, alerts_period)
        self.quiet_alerts = quiet_alerts or (lambda: False)
        self.on_status = on_status or (lambda _s: None)
        self.clock = clock
        self.sleep = sleep
        self.channels: dict[str, ChannelState] = {
            incidents: ChannelState(incidents, max(5.0, incidents_period), fixed=True),
            alerts: ChannelState(alerts, self.alerts_period, alert=True, fixed=True),
        }
        self.threads: dict[tuple[str, str], ThreadState] = {}
        self.stats = PollStats()
        self._workspace = ""
        self._stop = asyncio.Event()
        self._unknown_users: set[str] = set()
        self._pending_threads: set[tuple[str, str]] = set()  # (channel id, ts)
        self._ids: dict[str, str] = {}  # channel name → id, from one listing
        self._listed_at = float("-inf")
        self._tokens = float(BURST)  # a few requests may go at once (start-up), then even
        self._refilled = clock()

    # -- what to watch -----------------------------------------------------------------
    def watch_channels(self, names: Iterable[str]) -> None:
        """The incidents' own channels (#incident-N): polled now and then (every minute)
        unless it is the active incident's (`set_active_channel`)."""
        for name in names:
            name = name.lstrip("#")
            if name and name not in self.channels:
                # #incidents and #alerts come first: another incident's history can wait
                self.channels[name] = ChannelState(
                    name, OTHER_CHANNEL_PERIOD, due=self.clock() + 15.0
                )

    def set_active_channel(self, name: str) -> None:
        """The active incident's channel is polled often; the other incidents' rarely."""
        name = name.lstrip("#")
        self.watch_channels([name])
        for ch in self.channels.values():
            if ch.fixed:
                continue
            was = ch.period
            ch.period = self.channel_period if ch.name == name else OTHER_CHANNEL_PERIOD
            if ch.period < was:
                ch.due = min(ch.due, self.clock())

    def stop(self) -> None:
        self._stop.set()

    # -- budget ------------------------------------------------------------------------
    def _budget_wait(self) -> float:
        """How long to wait before the next request. A token bucket (a burst of BURST,
        refilled at budget/60 a second) spreads requests evenly instead of a burst and a
        silence, and a sliding minute keeps the hard limit of `budget` a minute."""
        now = self.clock()
        rate = self.budget / 60.0
        self._tokens = min(float(BURST), self._tokens + (now - self._refilled) * rate)
        self._refilled = now
        window = self.stats.requests
        # a minute and a second: Slack's clock and ours need not agree to the millisecond
        while window and now - window[0] >= 61.0:
            window.popleft()
        wait = 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / rate
        if len(window) >= self.budget:
            wait = max(wait, 61.0 - (now - window[0]) + 0.01)
        return wait

    async def _spend(self) -> None:
        """Every Slack request the feed makes goes through here: the budget counts all."""
        wait = self._budget_wait()
        if wait > 0:
            await self.sleep(wait)
            self._budget_wait()  # refill for the time slept
        self._tokens -= 1.0
        now = self.clock()
        self.stats.requests.append(now)
        self.stats.total_requests += 1

    async def _call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        await self._spend()
        return await self.slack.call(method, args)

    # -- the loop ------------------------------------------------------------------------
    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.step()
            except RemoteError as e:
                self.stats.last_error = str(e)
                self.on_status(str(e))
                await self.sleep(e.retry_after or 15.0)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # never let the feed die silently
                log.exception("feed poll failed")
                self.on_status(f"feed: {type(e).__name__}: {e}")
                await self.sleep(15.0)

    async def step(self) -> list[FeedMessage]:
        """Do the most overdue task (a channel page or a thread), waiting until it is due."""
        if not self._workspace:
            await self._spend()
            self._workspace = (await self.slack.auth_test()).url.rstrip("/")
        task = self._next_task()
        delay = task.due - self.clock()
        if delay > 0:
            await self.sleep(delay)
        try:
            if isinstance(task, ChannelState):
                messages = await self._poll_channel(task)
            else:
                messages = await self._poll_thread(task)
        except RemoteError as e:
            if e.retry_after or e.code in ("ratelimited", "not_authed", "invalid_auth"):
                raise  # the whole feed waits (run() sleeps and says why)
            # one channel or thread failing (not_in_channel, channel_not_found, …) must not
            # hold up the others: it is tried again later, less and less often
            task.failures += 1
            task.due = self.clock() + min(300.0, 30.0 * 2 ** (task.failures - 1))
            where = f"#{task.name}" if isinstance(task, ChannelState) else "a thread"
            self.stats.last_error = f"{where}: {e}"
            self.on_status(self.stats.last_error)
            return []
        task.failures = 0
        if messages:
            self.stats.delivered += len(messages)
            self.deliver(messages)
        failing = [c.failures for c in self.channels.values()] + [
            t.failures for t in self.threads.values()
        ]
        if self.stats.last_error and not any(failing):
            self.stats.last_error = ""
            self.on_status("")
        return messages

    def _next_task(self) -> ChannelState | ThreadState:
        now = self.clock()
        for key, th in list(self.threads.items()):
            if th.active_until < now:
                del self.threads[key]
        tasks: list[ChannelState | ThreadState] = [*self.channels.values(), *self.threads.values()]
        return min(tasks, key=lambda t: t.due)

    async def _list_channels(self) -> None:
        """One listing (paged) names every channel: later lookups cost nothing."""
        cursor = None
        members: set[str] = set()
        while True:
            args: dict[str, Any] = {
                "types": "public_channel,private_channel",
                "exclude_archived": True,
                "limit": 1000,
            }
            if cursor:
                args["cursor"] = cursor
            doc = await self._call("conversations.list", args)
            for c in doc.get("channels") or []:
                if isinstance(c, dict) and isinstance(c.get("id"), str):
                    self._ids[str(c.get("name", ""))] = c["id"]
                    if c.get("is_member"):
                        members.add(c["id"])
            meta = doc.get("response_metadata") or {}
            cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
            if not cursor:
                break
        self._members = members
        self._listed_at = self.clock()

    async def _resolve(self, ch: ChannelState) -> bool:
        if ch.id:
            return True
        if ch.name not in self._ids and self.clock() - self._listed_at > 60.0:
            await self._list_channels()
        cid = self._ids.get(ch.name)
        if cid is None:
            ch.due = self.clock() + 60.0  # not created yet (or not visible): look later
            return False
        ch.id = cid
        for cid, ts in list(self._pending_threads):
            if cid == ch.id:
                self._pending_threads.discard((cid, ts))
                self._watch_thread(ch, ts, ts)
        if cid not in getattr(self, "_members", set()):
            try:
                await self._spend()
                await self.slack.join(cid)
            except RemoteError as e:
                log.info("cannot join #%s: %s", ch.name, e)
        return True

    async def _poll_channel(self, ch: ChannelState) -> list[FeedMessage]:
        period = ch.period
        if ch.alert and self.quiet_alerts():
            period = max(period, 30.0)
        if not await self._resolve(ch):
            return []
        args: dict[str, Any] = {"channel": ch.id}
        if ch.oldest is None and ch.cursor is None:
            args["limit"] = FIRST_FETCH
        else:
            args["limit"] = PAGE
            args["oldest"] = ch.oldest
            if ch.cursor:
                args["cursor"] = ch.cursor
        doc = await self._call("conversations.history", args)
        raw = [
            m
            for m in doc.get("messages") or []
            if isinstance(m, dict) and isinstance(m.get("ts"), str)
        ]
        for m in raw:
            if ch.newest_seen is None or ts_key(m["ts"]) > ts_key(ch.newest_seen):
                ch.newest_seen = m["ts"]
        meta = doc.get("response_metadata") or {}
        cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
        if cursor and doc.get("has_more") and "oldest" in args:
            ch.cursor = str(cursor)  # a backlog: the next page on the next turn
            ch.due = self.clock()
        else:
            ch.cursor = None
            ch.oldest = ch.newest_seen or ch.oldest or "0"
            ch.due = self.clock() + period
        for m in raw:
            if isinstance(m.get("reply_count"), int) and m["reply_count"] > 0:
                self._watch_thread(ch, m["ts"], str(m.get("latest_reply") or m["ts"]))
        return await self._to_feed(ch, raw)

    def _watch_thread(self, ch: ChannelState, ts: str, latest: str) -> None:
        key = (ch.name, ts)
        known = self.threads.get(key)
        now = self.clock()
        if known is None:
            self.threads[key] = ThreadState(ch, ts, "0", now + THREAD_WATCH, due=now)
        elif ts_key(latest) > ts_key(known.latest):
            known.due = min(known.due, now)
            known.active_until = now + THREAD_WATCH

    def watch_thread(self, channel_name: str, ts: str) -> None:
        """Keep an eye on one thread (the active incident's report)."""
        ch = self.channels.get(channel_name.lstrip("#"))
        if ch is not None:
            self._watch_thread(ch, ts, ts)

    def watch_thread_in(self, channel_id: str, ts: str) -> None:
        """The same, by channel id (from a permalink); kept until that channel is known."""
        ch = next((c for c in self.channels.values() if c.id == channel_id), None)
        if ch is not None:
            self._watch_thread(ch, ts, ts)
        else:
            self._pending_threads.add((channel_id, ts))

    async def _poll_thread(self, th: ThreadState) -> list[FeedMessage]:
        th.due = self.clock() + THREAD_PERIOD
        if not th.channel.id:
            return []
        args: dict[str, Any] = {"channel": th.channel.id, "ts": th.ts, "limit": 200}
        if th.latest != "0":
            args["oldest"] = th.latest
        doc = await self._call("conversations.replies", args)
        raw = [
            m
            for m in doc.get("messages") or []
            if isinstance(m, dict) and isinstance(m.get("ts"), str) and m["ts"] != th.ts
        ]
        for m in raw:
            if ts_key(m["ts"]) > ts_key(th.latest):
                th.latest = m["ts"]
        if raw:
            th.active_until = self.clock() + THREAD_WATCH
        return await self._to_feed(th.channel, raw)

    async def _to_feed(self, ch: ChannelState, raw: list[dict[str, Any]]) -> list[FeedMessage]:
        unknown = (
            {str(m["user"]) for m in raw if isinstance(m.get("user"), str)}
            - set(self.slack.known_user_names)
            - self._unknown_users
        )
        for uid in list(unknown)[:3]:  # a few per turn: names are cached for good
            try:
                await self._spend()
                await self.slack.user_name(uid)
            except RemoteError:
                self._unknown_users.add(uid)
        names = self.slack.known_user_names
        out = []
        for m in raw:
            link = f"{self._workspace}/archives/{ch.id}/p{m['ts'].replace('.', '')}"
            out.append(to_feed_message(m, ch.name, names, permalink=link, is_alert=ch.alert))
        return out
