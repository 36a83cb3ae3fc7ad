"""The live feed: polls #incidents, #alerts and the incidents' own channels within a budget,
and takes the messages Slack pushes over Socket Mode (cockpit/integrations/socket.py).

Slack gives an internal app about 50 `conversations.history` calls a minute, shared by
every cockpit using that app, so one cockpit keeps to `budget` requests a minute (25 by
default) counted over a sliding minute, never polls a channel more often than every
5 s, and waits out any Retry-After. Each channel is fetched from the newest message seen
(`oldest`), a page at a time; a backlog (an alert storm) is paged through over several
turns rather than in one burst. Threads with activity are watched for new replies.

Polling alone (no app-level token, or the socket down) schedules the budget by rank:
#incidents (where reports come) every 7.5 s, the active incident's channel every 10 s,
#alerts every 10 s (30 s outside waking hours), and the rest (the other incidents'
channels once a minute, watched threads, name look-ups) in what is left. A request of a
lower rank goes only if the budget still has a request ready for each poll of a higher
rank due in the next `HORIZON` seconds (`_room_for`), so #incidents is never late for
the budget, and a Socket Mode reconnect attempt (`spend`) never takes its turn: a new
#incidents message waits at most its period (`expected_delay`, on the feed's border),
#alerts' at most `POLLING_WORST_CASE` seconds and a little budget. While a
Socket Mode connection is up (`set_live(True)`, after Slack's hello) messages arrive by
`take_messages` as they are posted, and polling drops to a safety net: each channel at
most every `LIVE_PERIOD` s, each watched thread every `LIVE_THREAD_PERIOD` s, in the same
budget. On every (re)connect each channel is fetched once from where polling left it,
so nothing sent while the socket was down is lost; when it goes down (`set_live(False)`)
polling is back to its own pace at once. A message seen both ways is delivered once
(by channel and ts); an edit or a deletion replaces the message shown.

It reads through a `MessageSource` (source.py; Slack's client is one): every request a
source makes is one call, counted here in the budget before it is made.

Under faults. The poller is one loop, so one slow call holds every channel: polls are made
inside `http.polling()` (one attempt, a whole-call deadline of `POLL_DEADLINE` s, a 429
raised with its Retry-After instead of slept inside the call): the next poll is the retry.
A channel (or thread) whose poll fails backs off on its own: a passing fault (timeout,
5xx, dropped connection) is polled again `FIRST_RETRY` s after the first, at the channel's
own pace up to `TRANSIENT_FAILURES` failures in a row, then twice as long each time (at
most `MAX_BACKOFF` s); a lasting one
(channel_not_found, not_in_channel, …) waits 30 s, doubling to 5 minutes. The others keep
their pace, and when several tasks are due #incidents goes first: a failing #alerts, a
burst of catch-up fetches after a reconnect, never take its turn. Only a rate limit
(shared by every channel) or refused credentials pause the whole feed.

No Textual: `deliver` is called with the new `FeedMessage`s (the app passes a function
that hands them to its UI thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from cockpit.domain.feed import FeedMessage
from cockpit.integrations.errors import RemoteError
from cockpit.integrations.http import POLL_DEADLINE, polling
from cockpit.integrations.names import VISIBLE
from cockpit.integrations.source import MessageSource, RawMessage, ts_key

log = logging.getLogger("cockpit.feed")

FIRST_FETCH = 50  # messages shown from a channel's history when cockpit starts
PAGE = 999  # Slack's largest history page
THREAD_PERIOD = 30.0  # how often a watched thread is asked for new replies
THREAD_WATCH = 3600.0  # how long a thread stays watched after its last activity
OTHER_CHANNEL_PERIOD = 60.0  # channels of open incidents other than the active one
BURST = 5  # requests that may go back to back (start-up: listing, joins, first pages)
NAP = 0.5  # the longest the poller sleeps before looking at its plan again
LIVE_PERIOD = 60.0  # with Socket Mode up: each channel's safety-net poll
LIVE_THREAD_PERIOD = 300.0  # with Socket Mode up: a watched thread's safety-net poll
# with Socket Mode up but its pushes spread over a teammate's connections too: the active
# incident's channel (the rest are at LIVE_PERIOD then: about 15 + 5 requests a minute)
SPREAD_PERIOD = 4.0
# (channel, ts) keys remembered to deliver each message once: a message comes twice
# only from a push and a poll of the same minute or so (while live, each channel is
# read every minute; a reconnect's catch-up reads from there), so a storm's worth is
# plenty; 50,000 kept ~15 MB through a shift. An older one seen again is older than
# every row on screen: the view drops it at once.
SEEN_MAX = 10_000
# Polling only: the longest a new message in #alerts (or the active incident's channel)
# waits for its poll (its period); #incidents' comes sooner (7.5 s), other incidents'
# channels once a minute or so, in what the budget leaves.
POLLING_WORST_CASE = 10.0
# what polls first when several are due, and whose requests the budget keeps room for
RANK_REPORT, RANK_ACTIVE, RANK_ALERTS, RANK_RECONNECT, RANK_REST = 0, 1, 2, 3, 4
# RANK_RECONNECT: a Socket Mode reconnect attempt, in what the watched channels' polls
# leave, before the rest; the first connection (at start) goes right after #incidents
HORIZON = 20.0  # seconds ahead the budget keeps room for the higher ranks' polls
FIRST_RETRY = 2.0  # after a passing fault, the channel is polled again this soon
TRANSIENT_FAILURES = 3  # passing faults in a row polled again at the channel's own pace
MAX_BACKOFF = 120.0  # the longest wait after passing faults (a lasting one: 300 s)
TRANSIENT_PAUSE = 2.0  # the feed's pause after a passing fault outside a channel's poll
NAMES_SPARE = 2.0  # a name look-up goes only while the budget keeps this many for polls
NAMES_MIN = 2  # look-ups a minute however busy the polls (each one no more than a wait)
KEPT_RAW = 5000  # raw messages kept to read again when a name they use arrives
# A channel the app is not in is looked for in the listing of every channel (thousands in a
# large workspace: pages of the budget) at most this often; the app's own channels (the
# member listing, a page) every minute.
FULL_LISTING_EVERY = 600.0


@dataclass
class ChannelState:
    name: str
    period: float
    alert: bool = False
    fixed: bool = False  # #incidents and #alerts keep their own pace
    failures: int = 0
    id: str = ""
    remembered: bool = False  # its id is the last run's (no listing): it may be stale
    needs_join: bool = False  # Slack says the app is not in it: join before reading
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
    elsewhere: int = 0  # Slack requests made outside the feed and counted in its budget
    delivered: int = 0
    pushed: int = 0  # of those, delivered from Socket Mode first
    duplicates: int = 0  # messages seen a second time (polled and pushed), not delivered
    name_lookups: int = 0  # of the requests, look-ups of names
    renamed: int = 0  # messages delivered again because a name they use arrived
    listings: int = 0  # pages of channel listings
    last_error: str = ""


class FeedPoller:
    def __init__(
        self,
        source: MessageSource,
        deliver: Callable[[list[FeedMessage]], None],
        *,
        incidents: str = "incidents",
        alerts: str = "alerts",
        budget: int = 25,
        incidents_period: float = 7.5,
        alerts_period: float = 10.0,
        channel_period: float = 10.0,
        quiet_alerts: Callable[[], bool] | None = None,
        on_status: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.source = source
        self.deliver = deliver
        self.budget = budget
        self.channel_period = max(5.0, channel_period)
        self.alerts_period = max(5.0, alerts_period)
        self.quiet_alerts = quiet_alerts or (lambda: False)
        self.on_status = on_status or (lambda _s: None)
        self.clock = clock
        self.sleep = sleep
        self.incidents = incidents
        self.active = ""  # the active incident's channel (its name)
        self._paused_until = float("-inf")  # the whole feed waits (a rate limit) until then
        self._opens = 0  # Socket Mode connection attempts counted (`spend`)
        self._rank_now = RANK_REPORT  # the rank of the poll under way (its requests')
        self._elsewhere: deque[float] = deque()  # times of the last minute's, `count_elsewhere`
        self._open_waiting = 0  # of those, waiting for room in the budget now
        self.channels: dict[str, ChannelState] = {
            incidents: ChannelState(incidents, max(5.0, incidents_period), fixed=True),
            alerts: ChannelState(alerts, self.alerts_period, alert=True, fixed=True),
        }
        self.threads: dict[tuple[str, str], ThreadState] = {}
        self.stats = PollStats()
        self._workspace = ""
        self._stop = asyncio.Event()
        self.names = source.names  # who the ids are: looked up in the budget's spare room
        # raw messages that name someone not known yet, to read again when the name comes:
        # (channel name, ts) → (channel, raw); and each wanted name's messages
        self._unnamed: OrderedDict[tuple[str, str], tuple[ChannelState, RawMessage]] = OrderedDict()
        self._naming: dict[tuple[str, str], set[tuple[str, str]]] = {}
        self._lookup_times: deque[float] = deque()  # the name look-ups of the last minute
        self._pending_threads: set[tuple[str, str]] = set()  # (channel id, ts)
        self._ids: dict[str, str] = {}  # channel name → id, from a listing
        self._members: set[str] = set()  # ids of channels the app is in, from a listing
        self._listed_at = {True: float("-inf"), False: float("-inf")}  # by member_only
        self._tokens = float(BURST)  # a few requests may go at once (start-up), then even
        self._refilled = clock()
        self._spending = asyncio.Lock()  # polls and pushed messages share the budget
        self.live = False  # a Socket Mode connection is up: polling is the safety net
        # Slack hands each of an app's Socket Mode events to one of its open connections:
        # with a teammate's cockpit of the same app connected, a push reaches this one only
        # now and then, so the active incident's channel keeps its polling pace while live
        # (`pushes_spread`)
        self.spread = False
        # the raw messages of the incidents' own channels, polled or pushed, as
        # `(channel id, messages)`: the team's changes ride on these reads (their metadata)
        self.on_incident_messages: Callable[[str, list[RawMessage]], None] | None = None
        # what was delivered per (channel, ts): (edited, deleted, content); bounded
        self._seen: OrderedDict[tuple[str, str], tuple[bool, bool, int, str]] = OrderedDict()

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
        self.active = name
        for ch in self.channels.values():
            if ch.fixed:
                continue
            was = ch.period
            ch.period = self.channel_period if ch.name == name else OTHER_CHANNEL_PERIOD
            if ch.period < was:
                ch.due = min(ch.due, self.clock())
            elif ch.name == name and self.spread:
                ch.due = min(ch.due, self.clock() + self._period(ch, live=self.live))

    def stop(self) -> None:
        self._stop.set()

    def set_live(self, live: bool) -> None:
        """Socket Mode is up (after Slack's hello) or down. Up: every channel is fetched
        once now from where polling left it (what was posted while the socket was down),
        then only as a safety net. Down: each channel and thread is back to its own pace."""
        now = self.clock()
        was, self.live = self.live, live
        if live:
            # the catch-up fetch; a channel never fetched is fetched (and joined: only then
            # does Slack push its messages) now too, instead of after #incidents/#alerts
            for ch in self.channels.values():
                ch.due = min(ch.due, now)
            return
        if not was:
            return
        for ch in self.channels.values():
            ch.due = min(ch.due, now + self._period(ch, live=False))
        for th in self.threads.values():
            th.due = min(th.due, now + THREAD_PERIOD)

    def pushes_spread(self) -> None:
        """Another connection of this Slack app is up (a teammate's cockpit): Slack spreads
        the app's events over them, so Socket Mode brings this cockpit only some of the
        team's changes. The active incident's channel is read every `SPREAD_PERIOD` s
        while live (the budget the other channels leave then: they, and #incidents, stay
        on the socket), at its polling pace when not."""
        if self.spread:
            return
        self.spread = True
        ch = self.channels.get(self.active)
        if ch is not None and not ch.fixed:
            ch.due = min(ch.due, self.clock() + self._period(ch, live=self.live))

    def _period(self, ch: ChannelState, *, live: bool) -> float:
        period = ch.period
        if ch.alert and self.quiet_alerts():
            period = max(period, 30.0)
        if live and self.spread and ch.name == self.active and not ch.fixed:
            period = min(period, SPREAD_PERIOD)
        elif live:
            period = max(period, LIVE_PERIOD)
        return period

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

    async def _spend(self, rank: int | None = None) -> None:
        """Every Slack request the feed makes goes through here: the budget counts all.
        Each request of a poll waits for room at the poll's rank (a poll may be a join
        and a page, or several pages), the other's at `rank`."""
        rank = self._rank_now if rank is None else rank
        while not self._room_for(rank):
            await self.sleep(NAP / 2)
        async with self._spending:
            wait = self._budget_wait()
            while wait > 0:
                await self.sleep(wait)
                # again: a pushed message's name may have gone ahead meanwhile (below a
                # millisecond it is the float's rounding, not a real wait)
                wait = self._budget_wait()
                if wait < 0.001:
                    break
            self._take()

    def _take(self) -> None:
        self._tokens -= 1.0
        self.stats.requests.append(self.clock())
        self.stats.total_requests += 1

    def _spend_now(self) -> bool:
        """Take one request from the budget at once, ahead of the polls, if the minute has
        room (a pushed message's author's name): the token bucket may go below zero, so
        the next polls wait the longer; the hard limit of `budget` a minute holds."""
        self._budget_wait()  # refill the bucket, forget requests older than the minute
        if len(self.stats.requests) >= self.budget:
            return False
        self._take()
        return True

    def count_elsewhere(self) -> None:
        """A Slack request made outside the feed, not waiting for it (the outbox's posts:
        what a person sent goes at once): counted in the budget all the same, so the
        polls after it leave room for it and the cockpit's requests stay within the
        minute's `budget` (a busy minute of posts slows the polls down to what is left)."""
        self._budget_wait()  # (refill the bucket, forget requests older than the minute)
        now = self.clock()
        self._tokens -= 1.0
        self.stats.requests.append(now)
        self.stats.elsewhere += 1
        self._elsewhere.append(now)
        while self._elsewhere and now - self._elsewhere[0] >= 60.0:
            self._elsewhere.popleft()

    async def spend(self, rank: int = RANK_REST) -> None:
        """Count one request made elsewhere (the team's reads of the incidents' channels)
        in the feed's budget, waiting for room first: room that no poll of a higher rank
        needs in time."""
        await self._spend(rank)

    async def spend_open(self) -> None:
        """The same for Socket Mode's apps.connections.open. The first (the connection at
        start) ranks after #incidents only, every later one (a reconnect attempt) after
        #alerts; while one waits, the rest (other incidents' channels, threads, names)
        wait behind it."""
        rank = RANK_ACTIVE if not self._opens else RANK_RECONNECT
        self._opens += 1
        self._open_waiting += 1
        try:
            await self._spend(rank)
        finally:
            self._open_waiting -= 1

    # -- scheduling by rank ------------------------------------------------------------
    def _rank(self, task: ChannelState | ThreadState) -> int:
        if isinstance(task, ThreadState):
            return RANK_REST
        if task.name == self.incidents:
            return RANK_REPORT
        if task.name == self.active and not task.fixed:
            return RANK_ACTIVE
        return RANK_ALERTS if task.alert else RANK_REST

    def _room_for(self, rank: int) -> bool:
        """Whether a request of `rank` may go now: after it, each poll of a higher rank due
        in the next minute at its pace still finds a request ready in the token bucket (in
        the next `HORIZON` seconds) and room in the minute's hard limit."""
        if rank <= RANK_REPORT:
            return True
        if rank > RANK_RECONNECT and self._open_waiting:
            return False  # a reconnect attempt goes first
        if self._budget_wait() > 0:  # (also: the bucket refilled, the minute's old ones gone)
            return False  # it would wait for the budget, and #incidents behind it
        now = self.clock()
        dues: list[float] = []
        for ch in self.channels.values():
            if self._rank(ch) >= rank:
                continue
            period = self._period(ch, live=self.live)
            due = max(ch.due, now)
            while due <= now + 61.0:
                dues.append(due)
                due += period
        # the requests made elsewhere (the outbox's posts) go on at the last minute's pace
        # as far as the polls can tell: room is kept for them as for #incidents
        posted = sum(1 for x in self._elsewhere if x > now - 60.0)
        if posted:
            dues += [now + 60.0 / posted * (i + 0.5) for i in range(posted)]
        dues.sort()
        rate = self.budget / 60.0
        tokens, t = self._tokens - 1.0, now
        for due in dues:
            if due > now + HORIZON:
                break
            tokens = min(float(BURST), tokens + (due - t) * rate)
            t = due
            if tokens < 1.0 - 1e-9:
                return False
            tokens -= 1.0
        # the sliding minute: at each of those polls, the requests of the minute before it
        # (those made, this one, the polls planned before it) leave it one; the rest also
        # leaves one for a reconnect attempt
        limit = self.budget - (1 if rank >= RANK_REST else 0)
        made = list(self.stats.requests)
        for n, due in enumerate(dues):
            recent = sum(1 for x in made if x > due - 61.0)
            if recent + 1 + n >= limit:
                return False
        return len(made) + 1 <= limit

    def expected_delay(self) -> float | None:
        """The longest a new #incidents message waits now before it is polled (None while
        Socket Mode is up: it is pushed): its period, and a pause of the whole feed (a
        rate limit, refused credentials) still to run."""
        if self.live:
            return None
        ch = self.channels.get(self.incidents)
        if ch is None:
            return None
        pause = max(0.0, self._paused_until - self.clock())
        return pause + self._period(ch, live=False)

    # -- the loop ------------------------------------------------------------------------
    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.step()
            except RemoteError as e:
                self.stats.last_error = str(e)
                self.on_status(str(e))
                pause = TRANSIENT_PAUSE if e.retryable and not e.code else 15.0
                self._paused_until = self.clock() + (e.retry_after or pause)
                await self.sleep(e.retry_after or pause)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # never let the feed die silently
                log.exception("feed poll failed")
                self.on_status(f"feed: {type(e).__name__}: {e}")
                await self.sleep(15.0)

    async def step(self) -> list[FeedMessage]:
        """Do the most overdue task (a channel page or a thread), waiting until it is due."""
        with polling(POLL_DEADLINE):  # one attempt, a short deadline: the next poll retries
            return await self._step()

    def _retry_in(self, task: ChannelState | ThreadState, e: RemoteError) -> float:
        """How long a channel or thread whose poll failed waits. A passing fault: soon
        after the first (the next poll is the retry), then its own pace up to
        `TRANSIENT_FAILURES` in a row, then twice as long each time; a lasting error,
        30 s and more. The pace is polling's even while Socket Mode is up: a failed fetch
        may have left a gap (the catch-up after connecting, a message the socket lost),
        and the socket does not fill it, so the safety net's minute would be too late."""
        if e.retryable:
            if isinstance(task, ChannelState):
                pace = self._period(task, live=False)
            else:
                pace = THREAD_PERIOD
            if task.failures == 1:
                return min(pace, FIRST_RETRY)
            extra = max(0, task.failures - TRANSIENT_FAILURES)
            return float(min(max(pace, MAX_BACKOFF), pace * 2.0**extra))
        return float(min(300.0, 30.0 * 2.0 ** (task.failures - 1)))

    async def _step(self) -> list[FeedMessage]:
        if not self._workspace:
            await self._spend()
            self._workspace = await self.source.workspace_url()
        task = self._next_task()
        while (delay := task.due - self.clock()) > 0 or not self._room_for(self._rank(task)):
            # no poll is due: the budget's spare room names someone (one look-up a turn)
            if delay > 0 and await self._name_turn():
                return []
            # in short naps, so a change of plan (the socket going down, another active
            # channel, a poll of a higher rank falling due) takes effect at once instead of
            # after a safety-net minute; a due poll the budget keeps for a higher rank waits
            await self.sleep(min(delay, NAP) if delay > 0 else NAP / 2)
            task = self._next_task()
        self._rank_now = self._rank(task)
        try:
            if isinstance(task, ChannelState):
                messages = await self._poll_channel(task)
            else:
                messages = await self._poll_thread(task)
        except RemoteError as e:
            if e.retry_after or e.code in ("ratelimited", "not_authed", "invalid_auth"):
                raise  # the whole feed waits (run() sleeps and says why)
            if isinstance(task, ChannelState) and task.id:
                if e.code == "not_in_channel":  # (a remembered id's): join, then read
                    task.needs_join = True
                elif e.code == "channel_not_found" and task.remembered:  # gone: look again
                    self._forget_channel(task)
            # one channel or thread failing (not_in_channel, channel_not_found, …) must not
            # hold up the others: it is tried again later, less and less often
            task.failures += 1
            task.due = self.clock() + self._retry_in(task, e)
            where = f"#{task.name}" if isinstance(task, ChannelState) else "a thread"
            self.stats.last_error = f"{where}: {e}"
            self.on_status(self.stats.last_error)
            return []
        task.failures = 0
        messages = self._fresh(messages)
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
        # of the tasks due now, the highest rank first (#incidents, the active incident's
        # channel, #alerts, the rest), then the most overdue: a failing channel or a
        # reconnect's catch-up fetches never take #incidents' turn
        return min(tasks, key=lambda t: (max(t.due, now), self._rank(t), t.due))

    async def _list_channels(self, *, member_only: bool) -> None:
        """Find the ids of the channels watched: the channels the app is in first (a
        handful, even in a workspace of thousands), else every channel, page by page,
        stopping as soon as every watched channel is found. The ids found are kept (on
        disk with the names): a restarted cockpit lists nothing."""
        looking = {c.name for c in self.channels.values() if not c.id}
        cursor = None
        while True:
            await self._spend()
            self.stats.listings += 1
            page = await self.source.channels_page(cursor, member_only=member_only)
            for c in page.channels:
                self._ids[c.name] = c.id
                if c.is_member:
                    self._members.add(c.id)
                if c.is_member or c.name in looking:
                    self.names.channel_ids[c.name] = c.id
                    self.names.note("channel", c.id, c.name)
            cursor = page.next_cursor
            if not cursor or looking <= self._ids.keys():
                break
        self._listed_at[member_only] = self.clock()

    def _forget_channel(self, ch: ChannelState) -> None:
        """A channel's remembered id is no good any more (deleted, or renamed): look it up
        by name again."""
        self._ids.pop(ch.name, None)
        self.names.channel_ids.pop(ch.name, None)
        self.names.dirty = True
        ch.id = ""
        ch.needs_join = ch.remembered = False

    async def _resolve(self, ch: ChannelState) -> bool:
        if ch.id:
            if ch.needs_join:
                ch.needs_join = False
                await self._join(ch)
            return True
        remembered = False
        if ch.name not in self._ids and ch.name in self.names.channel_ids:
            self._ids[ch.name] = self.names.channel_ids[ch.name]
            remembered = True  # from the last run: no listing (joined if Slack says so)
        now = self.clock()
        if ch.name not in self._ids and now - self._listed_at[True] > 60.0:
            await self._list_channels(member_only=True)
        if ch.name not in self._ids and now - self._listed_at[False] > FULL_LISTING_EVERY:
            await self._list_channels(member_only=False)
        cid = self._ids.get(ch.name)
        if cid is None:
            ch.due = self.clock() + 60.0  # not created yet (or not visible): look later
            return False
        ch.id = cid
        ch.remembered = remembered
        for pending in list(self._pending_threads):  # (channel id, ts) of threads to watch
            if pending[0] == cid:
                self._pending_threads.discard(pending)
                self._watch_thread(ch, pending[1], pending[1])
        if not remembered and cid not in self._members:
            await self._join(ch)
        return True

    async def _join(self, ch: ChannelState) -> None:
        try:
            await self._spend()
            await self.source.join(ch.id)
            self._members.add(ch.id)
        except RemoteError as e:
            log.info("cannot join #%s: %s", ch.name, e)

    async def _poll_channel(self, ch: ChannelState) -> list[FeedMessage]:
        period = self._period(ch, live=self.live)
        if not await self._resolve(ch):
            return []
        first = ch.oldest is None and ch.cursor is None
        await self._spend()
        page = await self.source.messages_since(
            ch.id,
            None if first else ch.oldest,
            cursor=None if first else ch.cursor,
            limit=FIRST_FETCH if first else PAGE,
        )
        raw = page.messages
        for m in raw:
            if ch.newest_seen is None or ts_key(m["ts"]) > ts_key(ch.newest_seen):
                ch.newest_seen = m["ts"]
        if page.next_cursor and page.has_more and not first:
            ch.cursor = page.next_cursor  # a backlog: the next page on the next turn
            ch.due = self.clock()
        else:
            ch.cursor = None
            ch.oldest = ch.newest_seen or ch.oldest or "0"
            ch.due = self.clock() + period
        for m in raw:
            if isinstance(m.get("reply_count"), int) and m["reply_count"] > 0:
                self._watch_thread(ch, m["ts"], str(m.get("latest_reply") or m["ts"]))
        self._incident_messages(ch, raw)
        return await self._to_feed(ch, raw)

    def _incident_messages(self, ch: ChannelState, raw: list[RawMessage]) -> None:
        if raw and not ch.fixed and self.on_incident_messages is not None:
            try:
                self.on_incident_messages(ch.id, raw)
            except Exception:  # never let the feed die over what it hands on
                log.exception("incident messages not handed on")

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

    def keep_channels(self, names: Iterable[str]) -> None:
        """Of the incidents' own channels, only these (the open incidents') and the one
        shown stay watched: an ended incident's channel, and its threads, are dropped
        (a shift's ended incidents would otherwise be polled, and kept, to its end)."""
        keep = {n.lstrip("#") for n in names} | {self.active}
        for name, ch in list(self.channels.items()):
            if ch.fixed or name in keep:
                continue
            del self.channels[name]
            for key in [k for k, th in self.threads.items() if th.channel is ch]:
                del self.threads[key]

    def watch_thread_in(self, channel_id: str, ts: str) -> None:
        """The same, by channel id (from a permalink); kept until that channel is known."""
        ch = next((c for c in self.channels.values() if c.id == channel_id), None)
        if ch is not None:
            self._watch_thread(ch, ts, ts)
        else:
            self._pending_threads.add((channel_id, ts))

    async def _poll_thread(self, th: ThreadState) -> list[FeedMessage]:
        th.due = self.clock() + (LIVE_THREAD_PERIOD if self.live else THREAD_PERIOD)
        if not th.channel.id:
            return []
        await self._spend()
        page = await self.source.thread_replies(
            th.channel.id, th.ts, None if th.latest == "0" else th.latest, limit=200
        )
        raw = [m for m in page.messages if m["ts"] != th.ts]
        for m in raw:
            if ts_key(m["ts"]) > ts_key(th.latest):
                th.latest = m["ts"]
        if raw:
            th.active_until = self.clock() + THREAD_WATCH
        return await self._to_feed(th.channel, raw)

    async def _to_feed(
        self, ch: ChannelState, raw: list[RawMessage], *, pushed: bool = False
    ) -> list[FeedMessage]:
        """Raw messages as FeedMessages (sanitized by the source). A few unknown names
        are looked up first when the budget has room right now (`pushed` messages: ahead
        of the polls, within the minute's hard limit); the rest read as placeholders and
        are looked up in the background, the message delivered again when they arrive."""
        out = [self._read(ch, m) for m in raw]
        if any(m.wanted for m in out) and await self._names_first(pushed=pushed):
            out = [self._read(ch, r) if m.wanted else m for m, r in zip(out, raw, strict=True)]
        return out

    async def _names_first(self, *, pushed: bool, most: int = 3) -> bool:
        """Up to `most` look-ups now, without waiting: for a pushed message while the
        minute's hard limit has room (the token bucket may go below zero: the next polls
        wait the longer), for a polled one only from the budget's spare room. Returns
        whether any was made."""
        made = False
        for _ in range(most):
            key = self.names.next_lookup()
            if key is None:
                break
            if pushed:
                if not self._spend_now():
                    break
            elif not self._spare_room():
                break
            else:
                self._take()
            self._lookup_times.append(self.clock())
            await self._lookup(key)
            made = True
        return made

    def _read(self, ch: ChannelState, raw: RawMessage) -> FeedMessage:
        m = self.source.feed_message(
            raw, ch.name, channel_id=ch.id, workspace=self._workspace, is_alert=ch.alert
        )
        key = (ch.name, m.ts)
        if not m.wanted:
            self._unnamed.pop(key, None)
            return m
        self._unnamed[key] = (ch, raw)
        self._unnamed.move_to_end(key)
        for name in m.wanted:
            self._naming.setdefault(name, set()).add(key)
        # the newest messages are the ones on screen: their names first
        self.names.want(m.wanted, priority=float(ts_key(m.ts)[0]))
        while len(self._unnamed) > KEPT_RAW:
            self._unnamed.popitem(last=False)
        if len(self._naming) > 4 * KEPT_RAW:  # names of messages forgotten meanwhile
            kept = set(self._unnamed)
            self._naming = {n: keys & kept for n, keys in self._naming.items() if keys & kept}
        return m

    def show_first(self, keys: Iterable[tuple[str, str]]) -> None:
        """These messages ((channel name, ts)) are on screen: their unknown names go
        before every other look-up."""
        for key in keys:
            held = self._unnamed.get(key)
            if held is not None:
                names = [n for n, msgs in self._naming.items() if key in msgs]
                self.names.want(names, priority=VISIBLE)

    async def _name_turn(self) -> bool:
        """Look one name up if the budget has room to spare (`NAMES_SPARE` requests kept
        for the polls) and the name's own rate tier too; deliver again the messages that
        name it. Returns whether a request was made."""
        key = self.names.next_lookup()
        if key is None:
            return False
        if not self._spare_room():
            return False
        self._lookup_times.append(self.clock())
        self._take()
        await self._lookup(key)
        return True

    def _spare_room(self) -> bool:
        """Whether a look-up may go now from what the polls leave: no wait for the
        budget, and `NAMES_SPARE` requests still in the bucket and the minute's look-ups
        under `_names_room` (or fewer than `NAMES_MIN` this minute: when polling alone
        spends the budget, names still come, slowly)."""
        if self._budget_wait() > 0 or not self._room_for(RANK_REST):
            return False
        now = self.clock()
        lookups = self._lookup_times
        while lookups and now - lookups[0] >= 61.0:
            lookups.popleft()
        if len(lookups) < NAMES_MIN:  # however busy the polls: names still come
            return True
        return self._tokens >= NAMES_SPARE and len(lookups) < self._names_room()

    async def _lookup(self, key: tuple[str, str]) -> None:
        self.names.started(key[0])
        self.stats.name_lookups += 1
        try:
            found = await self.source.lookup_name(*key)
        except RemoteError as e:
            log.info("cannot look up %s %s: %s", key[0], key[1], e)
            self.names.failed(key, lasting=not e.retryable, retry_after=e.retry_after)
            return
        self._renamed(self.names.learned(found))

    def _names_room(self) -> float:
        """Look-ups a minute the budget leaves: what the polls will take in the next
        minute at their pace (one a minute each while Socket Mode is up) is kept for them,
        and `NAMES_SPARE` besides."""
        live = self.live
        polls = sum(60.0 / self._period(ch, live=live) for ch in self.channels.values())
        thread = LIVE_THREAD_PERIOD if live else THREAD_PERIOD
        polls += len(self.threads) * 60.0 / thread
        return self.budget - polls - NAMES_SPARE

    def _renamed(self, changed: set[tuple[str, str]]) -> None:
        """Names arrived: the messages that use them, read again and delivered."""
        keys: set[tuple[str, str]] = set()
        for name in changed:
            keys |= self._naming.pop(name, set())
        again = []
        for key in sorted(keys, key=lambda k: ts_key(k[1])):
            held = self._unnamed.get(key)
            if held is not None and key in self._seen:  # (not yet delivered: it will be)
                again.append(self._read(*held))
        fresh = self._fresh(again)
        if fresh:
            self.stats.renamed += len(fresh)
            self.deliver(fresh)

    # -- Socket Mode ---------------------------------------------------------------------
    async def take_messages(self, messages: list[tuple[str, dict[str, Any]]]) -> list[FeedMessage]:
        """Messages pushed over Socket Mode, as `(channel id, raw message)`: those of the
        watched channels are converted like polled ones and delivered (once: a message
        polled already is not delivered again). Returns what was delivered."""
        by_id = {ch.id: ch for ch in self.channels.values() if ch.id}
        groups: dict[str, list[dict[str, Any]]] = {}
        for cid, raw in messages:
            if cid in by_id and isinstance(raw.get("ts"), str):  # others: not watched
                groups.setdefault(cid, []).append(raw)
        if not groups:
            return []
        if not self._workspace and self._spend_now():  # for permalinks
            with contextlib.suppress(RemoteError):  # a later poll asks again
                self._workspace = await self.source.workspace_url()
        out: list[FeedMessage] = []
        for cid, raws in groups.items():
            ch = by_id[cid]
            self._incident_messages(ch, raws)
            for m in raws:
                if isinstance(m.get("thread_ts"), str) and m["thread_ts"] != m["ts"]:
                    self._reply_seen(ch, m["thread_ts"], m["ts"])
            with polling(POLL_DEADLINE):  # its look-ups: one attempt, a short deadline
                out.extend(await self._to_feed(ch, raws, pushed=True))
        fresh = self._fresh(out)
        if fresh:
            self.stats.delivered += len(fresh)
            self.stats.pushed += len(fresh)
            self.deliver(fresh)
        return fresh

    def _reply_seen(self, ch: ChannelState, thread_ts: str, ts: str) -> None:
        """A reply came pushed: keep its thread watched (from this reply on), so polling
        picks the thread up where the socket left it if the socket goes down."""
        key = (ch.name, thread_ts)
        now = self.clock()
        th = self.threads.get(key)
        if th is None:
            period = LIVE_THREAD_PERIOD if self.live else THREAD_PERIOD
            self.threads[key] = ThreadState(ch, thread_ts, ts, now + THREAD_WATCH, due=now + period)
            return
        th.active_until = now + THREAD_WATCH

    def _fresh(self, messages: list[FeedMessage]) -> list[FeedMessage]:
        """Those of `messages` not delivered yet. A message seen again (polled after it was
        pushed, or the other way round) is dropped; an edit or a deletion of a delivered
        message goes through, to replace it; an older version after an edit does not."""
        out = []
        seen = self._seen
        for m in messages:
            content = hash((m.author, m.text, m.line, m.extra, m.detail, m.state))
            old = seen.get(m.key)
            if old is not None:
                old_edited, old_deleted, old_content, old_author = old
                replaces = not old_deleted and (
                    m.deleted
                    or (m.edited and (not old_edited or content != old_content))
                    # an unfurl (attachments added, not an edit) or a bot's update
                    or (not m.edited and not old_edited and content != old_content)
                )
                if not replaces:
                    self.stats.duplicates += 1
                    continue
                if m.deleted and old_author:  # a tombstone keeps its author
                    m = msgspec.structs.replace(m, author=old_author)
                seen.move_to_end(m.key)
            seen[m.key] = (m.edited, m.deleted, content, m.author)
            out.append(m)
        while len(seen) > SEEN_MAX:
            seen.popitem(last=False)
        return out
