"""The remote side of a running cockpit: the outbox sender, the feed poller and, with an
app-level token, Slack's Socket Mode (cockpit/integrations/socket.py), on one event loop
in one background thread (the app runs `run_forever` in a thread worker).

`feed_state()` says how the feed gets its messages, for the UI to show (plain data, safe
to read from any thread): "connected" (pushed as they are posted), "connecting" /
"reconnecting" (polling meanwhile), "polling" (polling only: no app-level token, Socket
Mode off in the config, or the token refused) or "off" (no Slack).

With `team` set (Slack configured), the other responders' changes come in through the
incidents' channels (application/team.py): each open incident's channel is read once from
its start (the catch-up: what happened while this cockpit was closed), a page per request
in the feed's budget; after that they ride on the feed's own reads of the channel (polled
with their metadata, or pushed by Socket Mode), with no request of their own. What they
change is applied in one write and reported like the outbox's results (`on_change`).
Slack hands each of an app's Socket Mode events to one of its connections, so with a
teammate's cockpit of the same app connected a push reaches this one only now and then:
once a teammate's change is seen (or Slack's hello counts another connection), the active
incident's channel is read every few seconds while live (`_teammates_in`, the feed's
`pushes_spread`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from cockpit.application.sender import OutboxSender
from cockpit.config import Settings
from cockpit.domain.clock import Clock
from cockpit.domain.feed import FeedMessage
from cockpit.domain.incident import Incident
from cockpit.domain.outbox import OutboxItem
from cockpit.integrations.errors import RemoteError
from cockpit.integrations.feed import POLLING_WORST_CASE, RANK_ACTIVE, RANK_REPORT, FeedPoller
from cockpit.integrations.http import POLL_DEADLINE, counting, polling
from cockpit.integrations.outbox import Clients, RemoteActions, build_clients
from cockpit.integrations.slack import SlackClient
from cockpit.integrations.socket import SlackSocket, SocketStatus
from cockpit.integrations.source import MessageSource
from cockpit.store.feedcache import FeedCache
from cockpit.store.namecache import NameCache
from cockpit.store.store import Store

if TYPE_CHECKING:
    from cockpit.application.actions import IncidentActions
    from cockpit.application.presence import PresenceLoop
    from cockpit.application.team import Applied, ChannelWatch, TeamSync
    from cockpit.application.tracker import TrackerApplied, TrackerLoop
    from cockpit.application.tracker_team import TeamIncident
    from cockpit.domain.presence import Here
    from cockpit.domain.team import Received

log = logging.getLogger("cockpit.remote")

APP_TOKEN = "slack-app"  # the secrets name of Slack's app-level token (Socket Mode)
NAMES_SAVE_EVERY = 10.0  # seconds between saves of the names learned (when any were)
TEAM_LOOK_EVERY = 15.0  # seconds between looks for open incidents' channels to catch up
CATCH_UP_RETRY = 1.0  # the first wait after a failed catch-up read; doubles each time
CATCH_UP_RETRY_MAX = 300.0
RAISE_LOOK_DEADLINE = 8.0  # the longest a look for another cockpit's raise may take
TEAM_LIST_DEADLINE = 10.0  # the longest a look for the team's open incidents may take

FeedMode = Literal["off", "polling", "connecting", "connected", "reconnecting"]


@dataclass(frozen=True)
class FeedState:
    """How the feed gets its messages. `detail` is plain words for the user."""

    mode: FeedMode
    detail: str = ""
    delay: float | None = None  # polling: the longest a new #incidents message waits now

    @property
    def live(self) -> bool:
        return self.mode == "connected"


POLLING_ONLY = f"polling only: new messages can take up to {POLLING_WORST_CASE:.0f} s"


def catch_up_retry(failures: int, retry_after: float | None, jitter: float) -> float:
    """Seconds before a channel's catch-up read is tried again after `failures` earlier
    failures in a row (0 for the first): `CATCH_UP_RETRY`·2ⁿ, spread by ±20% (`jitter` in
    [0, 1): two cockpits refused together do not come back together), at most
    `CATCH_UP_RETRY_MAX`, and never sooner than a 429's `retry_after`."""
    wait = min(CATCH_UP_RETRY_MAX, CATCH_UP_RETRY * 2.0**failures) * (0.8 + 0.4 * jitter)
    return max(wait, retry_after or 0.0)


class Remote:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Clock,
        *,
        user: str,
        token: Callable[[str], str | None],
        render: Callable[[Incident, str], str],
        feed_cache: FeedCache | None = None,
        name_cache: NameCache | None = None,
        **client_kw: Any,
    ) -> None:
        self.settings = settings
        self.store = store
        self.feed_cache = feed_cache
        self.name_cache = name_cache
        self.clock = clock
        self.user = user
        self.token = token
        self.render = render
        self.client_kw = client_kw
        self.actions: IncidentActions | None = None  # its queue wakes the sender
        self.team: TeamSync | None = None  # the team's changes through the channels
        self.watch: ChannelWatch | None = None
        self.presence: PresenceLoop | None = None  # who else has the incident open
        self.tracker: TrackerLoop | None = None  # changes made in Jira itself
        self._team_channels: dict[str, str] = {}  # channel id → open incident id
        self._caught_up: set[str] = set()  # channel ids read from their start
        self._team_wake: asyncio.Event | None = None
        self._on_change: Callable[[str], None] = lambda _iid: None
        self._on_status: Callable[[str], None] = lambda _text: None
        self.clients: Clients | None = None
        self.sender: OutboxSender | None = None
        self.poller: FeedPoller | None = None
        self.socket: SlackSocket | None = None
        self.app_slack: SlackClient | None = None  # the app-level token's client
        self._feed_state = FeedState("off", "Slack is not configured")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._first_changed: Incident | None = None
        self._changed_lock = threading.Lock()
        self._shown_channel = ""  # the channel of the incident shown last (`changed`)
        self._shown_incident = ""  # its id (its channel's catch-up goes first)
        self._rewatching: set[asyncio.Future[None]] = set()
        self._ready = threading.Event()

    @property
    def configured(self) -> frozenset[str]:
        return self.settings.configured

    def feed_state(self) -> FeedState:
        """How the feed gets its messages right now (any thread may ask); while it polls,
        with the longest a new #incidents message waits now."""
        state, poller = self._feed_state, self.poller
        if poller is None or state.mode in ("connected", "off"):
            return state
        return replace(state, delay=poller.expected_delay())

    def run_forever(
        self,
        *,
        deliver: Callable[[list[FeedMessage]], None],
        on_change: Callable[[str], None],
        on_status: Callable[[str], None],
        quiet_alerts: Callable[[], bool],
        alive: Callable[[], bool] = lambda: True,
    ) -> None:
        """Blocks until `stop()`, or until `alive()` turns false (the app is gone, however
        it ended): builds the clients, then sends and polls."""
        self._alive = alive
        asyncio.run(self._main(deliver, on_change, on_status, quiet_alerts))

    async def _main(
        self,
        deliver: Callable[[list[FeedMessage]], None],
        on_change: Callable[[str], None],
        on_status: Callable[[str], None],
        quiet_alerts: Callable[[], bool],
    ) -> None:
        from cockpit.application.team import is_team_post, settled_post

        self._loop = asyncio.get_running_loop()
        self.clients = build_clients(self.settings, self.token, **self.client_kw)
        missing = sorted(self.configured - set(self.clients))
        if missing:
            on_status(
                "no token for "
                + ", ".join(missing)
                + ": `cockpit auth set NAME` (actions for it wait in the outbox)"
            )
        self.sender = OutboxSender(
            self.store,
            RemoteActions(self.clients, self.render),
            self.clock,
            user=self.user,
            on_change=on_change,
            coalesce=self.team.coalesce if self.team is not None else None,
            on_sent=self.team.sent if self.team is not None else None,
            # the team hears of a change while a write to another system waits to retry
            overtakes=is_team_post if self.team is not None else None,
            settled=settled_post if self.team is not None else None,
        )
        self._on_change, self._on_status = on_change, on_status
        if self.actions is not None:
            self.actions.wake = self.sender.wake
        tasks = [asyncio.create_task(self._send()), asyncio.create_task(self._watchdog())]
        self._start_presence(tasks)
        self._start_tracker(tasks)
        source = self.clients.message_source()
        if source is not None and self.settings.slack is not None:
            s = self.settings.slack
            cache = self.feed_cache
            self._use_names(source, tasks, on_status)

            def cache_failed(e: OSError) -> None:
                on_status(f"feed cache: {e.strerror}")

            def keep_then_show(messages: list[FeedMessage]) -> None:
                if cache is not None:  # (written on the cache's thread: this loop acks)
                    cache.append_soon(messages, cache_failed)
                deliver(messages)

            poller = FeedPoller(
                source,
                keep_then_show,
                incidents=s.incidents_channel,
                alerts=s.alerts_channel,
                quiet_alerts=quiet_alerts,
                on_status=on_status,
            )
            with self._changed_lock:
                self.poller = poller
                first, self._first_changed = self._first_changed, None
            self._watch_open_incidents()
            if first is not None:  # the incident the app showed before the poller ran
                self.changed(first)
            tasks.append(asyncio.create_task(poller.run()))
            self._start_team(source, poller, tasks)
            self._start_socket(tasks, on_status)
        self._ready.set()
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.clients.aclose()
            if self.app_slack is not None:
                await self.app_slack.aclose()
            self._save_names()
            if self.feed_cache is not None:
                self.feed_cache.flush(timeout=5.0)  # the last messages on disk

    async def _send(self) -> None:
        """The outbox's sender. Its Slack requests count in the feed's budget (one budget
        of Slack requests a minute for the whole cockpit): a minute of many posts leaves
        the feed's polls what is left."""
        assert self.sender is not None

        def told(system: str) -> None:
            if system == SlackClient.system and self.poller is not None:
                self.poller.count_elsewhere()

        with counting(told):
            await self.sender.run()

    # -- changes made in Jira itself ---------------------------------------------------------
    def _start_tracker(self, tasks: list[asyncio.Task[Any]]) -> None:
        """The open incidents' tickets read now and then (application/tracker.py): a status
        or priority changed in Jira is applied, or kept as a conflict to settle."""
        jira = self.clients.get("jira") if self.clients is not None else None
        s = self.settings.jira
        if jira is None or s is None or self.actions is None:
            return
        from cockpit.application.tracker import (
            TicketState,
            TrackerLoop,
            TrackerMap,
            TrackerSync,
            TrackerWatch,
        )

        sync = TrackerSync(self.actions.service, TrackerMap.of_settings(s), team=self.actions.team)

        async def apply(iid: str, state: TicketState) -> TrackerApplied:
            return await asyncio.to_thread(sync.apply, iid, state)

        async def pending(iid: str, state: TicketState) -> bool:
            return await asyncio.to_thread(sync.pending, iid, state)

        watch = TrackerWatch(jira, apply, pending, severity_field=s.severity_field)  # type: ignore[arg-type]
        self.tracker = TrackerLoop(
            watch, self._watched_tickets, self._tracked, guard=lambda: polling(POLL_DEADLINE)
        )
        tasks.append(asyncio.create_task(self.tracker.run(), name="tracker"))

    def _watched_tickets(self) -> dict[str, str]:
        from cockpit.application.tracker import watched_tickets

        return watched_tickets(self.store, self.clock.now())

    def _tracked(self, done: TrackerApplied) -> None:
        if done.changed or done.applied or done.conflicts:
            self._on_change(done.incident_id)
        for text in done.applied:
            self._on_status(f"#{done.incident_id}: {text}")
        for conflict in done.conflicts:
            self._on_status(f"#{done.incident_id}: conflict to settle (C): {conflict}")
        if done.unknown_status:
            self._on_status(
                f"#{done.incident_id}: its ticket is {done.unknown_status!r} in Jira, a status "
                "no cockpit status maps to ([jira.transitions])"
            )

    def find_team_incidents(self, done: Callable[[list[TeamIncident], str], None]) -> bool:
        """`I`: the team's open incidents in Jira (application/tracker_team.py); `done(found,
        problem)` is called from the remote thread. False when it cannot look (no Jira, not
        started)."""
        loop, s = self._loop, self.settings.jira
        jira = self.clients.get("jira") if self.clients is not None else None
        if loop is None or jira is None or s is None:
            return False
        from cockpit.application.tracker import TrackerMap
        from cockpit.application.tracker_team import find_open, held_tickets

        def held() -> dict[str, str]:
            ids = [x.id for x in self.store.list_incidents(open_only=True)]
            return held_tickets(self.store.load_incidents(ids))

        async def look() -> None:
            try:
                mine = await asyncio.to_thread(held)
                async with asyncio.timeout(TEAM_LIST_DEADLINE):
                    with polling(POLL_DEADLINE):
                        found = await find_open(jira, s.project, TrackerMap.of_settings(s), mine)  # type: ignore[arg-type]
            except (RemoteError, TimeoutError) as e:
                done([], str(e) or "Jira did not answer in time")
                return
            done(found, "")

        try:
            asyncio.run_coroutine_threadsafe(look(), loop)
        except RuntimeError:  # the loop has closed
            return False
        return True

    def join_team_incident(
        self, found: TeamIncident, done: Callable[[Incident | None, str], None]
    ) -> bool:
        """Join a team incident found by `find_team_incidents`: made here from its raise
        (or its ticket), then caught up from its channel (`changed` wakes the catch-up).
        `done(incident, problem)` is called from the remote thread."""
        loop, team = self._loop, self.team
        jira = self.clients.get("jira") if self.clients is not None else None
        if loop is None or jira is None or team is None:
            return False
        from cockpit.application.tracker_team import received_for
        from cockpit.domain.errors import CockpitError
        from cockpit.domain.team import BadEvent

        async def join() -> None:
            try:
                async with asyncio.timeout(TEAM_LIST_DEADLINE):
                    with polling(POLL_DEADLINE):
                        received = await received_for(found, jira, self.watch)  # type: ignore[arg-type]
                incident = await asyncio.to_thread(team.join, received)
            except (RemoteError, TimeoutError, BadEvent, CockpitError) as e:
                done(None, str(e) or "Jira or Slack did not answer in time")
                return
            done(incident, "")

        try:
            asyncio.run_coroutine_threadsafe(join(), loop)
        except RuntimeError:
            return False
        return True

    # -- who else has the incident open ----------------------------------------------------
    def _start_presence(self, tasks: list[asyncio.Task[Any]]) -> None:
        """This cockpit's presence on the shown incident's ticket, and the others' read
        back (application/presence.py): with the team on (Slack) and Jira configured."""
        jira = self.clients.get("jira") if self.clients is not None else None
        if jira is None or self.team is None or not self.team.enabled:
            return
        from cockpit.application.presence import PresenceLoop

        self.presence = PresenceLoop(
            jira,  # type: ignore[arg-type]
            cockpit=self.team.origin,
            person=self.user,
            clock=self.clock,
            on_seen=lambda iid: self._on_change(iid),
            guard=lambda: polling(POLL_DEADLINE),
        )
        tasks.append(asyncio.create_task(self.presence.run(), name="presence"))

    def also_here(self, incident_id: str) -> list[Here]:
        """Who else has the incident open in cockpit (any thread: plain data)."""
        presence = self.presence
        return presence.others(incident_id) if presence is not None else []

    # -- the team's changes ----------------------------------------------------------------
    def _start_team(
        self, source: MessageSource, poller: FeedPoller, tasks: list[asyncio.Task[Any]]
    ) -> None:
        """The other responders' changes: caught up once per channel, then read from the
        feed's own reads (see the module doc)."""
        if self.team is None or not isinstance(source, SlackClient):
            return
        from cockpit.application.team import ChannelWatch

        team = self.team

        async def apply(iid: str, messages: list[dict[str, Any]], channel: str) -> Applied:
            self._teammates_in(messages)
            return team.apply(iid, messages, channel)

        self.watch = ChannelWatch(
            source,
            apply,
            spend=poller.spend,
            # a person waits at the raise dialog: its look goes with the reports' polls
            spend_look=lambda: poller.spend(RANK_REPORT),
        )
        self._team_wake = asyncio.Event()
        poller.on_incident_messages = self._incident_messages
        tasks.append(asyncio.create_task(self._catch_up(), name="team-catch-up"))

    def _open_channels(self) -> dict[str, str]:
        from cockpit.domain.team import TeamKey

        ids = [s.id for s in self.store.list_incidents(open_only=True)]
        found = {}
        for inc in self.store.load_incidents(ids):
            channel = TeamKey.of(inc).channel
            if channel:
                found[channel] = inc.id
        return found

    async def _catch_up(self) -> None:
        """Each open incident's channel read once from its start (then the feed's reads
        bring the rest); looked for again every `TEAM_LOOK_EVERY` s, at once when an
        incident is raised, joined or switched to, and when a failed read is due again."""
        assert self.watch is not None and self._team_wake is not None
        failures: dict[str, tuple[int, float]] = {}  # channel → (failures, not before)
        while True:
            self._team_wake.clear()
            pause = TEAM_LOOK_EVERY
            try:
                pause = await self._catch_up_round(failures)
            except asyncio.CancelledError:
                raise
            except Exception:  # never let it end the remote side
                log.exception("team catch-up failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._team_wake.wait(), pause)

    async def _catch_up_round(self, failures: dict[str, tuple[int, float]]) -> float:
        """One look: each open channel not caught up yet, and not waiting out a failure,
        read from its start (the incident shown first). The seconds until the next look:
        `TEAM_LOOK_EVERY`, or less when a failed read is due again sooner.
        A failed read is tried again after `catch_up_retry` (1 s, then 2, 4 … 5 min, or
        the 429's wait when longer): until its channel is caught up, a teammate's changes
        pushed or polled there are not applied, so a passing refusal costs seconds."""
        assert self.watch is not None
        self._team_channels = self._open_channels()
        shown = self._shown_incident
        # the incident shown first, at its channel's rank in the feed's budget (the feed's
        # reads of that channel bring the team's events only once caught up)
        order = sorted(self._team_channels.items(), key=lambda c: c[1] != shown)
        for channel, iid in order:
            n, not_before = failures.get(channel, (0, 0.0))
            if channel in self._caught_up or time.monotonic() < not_before:
                continue
            spend = self._spend_active if iid == shown else None
            try:
                with polling(POLL_DEADLINE):
                    done = await self.watch.read(iid, channel, spend=spend)
            except RemoteError as e:  # that channel again soon, then less and less often
                wait = catch_up_retry(n, e.retry_after, random.random())
                log.info("team catch-up of %s: %s (again in %.0f s)", channel, e, wait)
                failures[channel] = (n + 1, time.monotonic() + wait)
                continue
            failures.pop(channel, None)
            self._caught_up.add(channel)
            self._applied(done)
        for gone in set(failures) - set(self._team_channels):  # (closed meanwhile)
            del failures[gone]
        due = [nb for ch, (_, nb) in failures.items() if ch not in self._caught_up]
        now = time.monotonic()
        return min([TEAM_LOOK_EVERY, *(max(0.05, nb - now) for nb in due)])

    async def _spend_active(self) -> None:
        assert self.poller is not None
        await self.poller.spend(RANK_ACTIVE)

    def _incident_messages(self, channel: str, messages: list[dict[str, Any]]) -> None:
        """Messages the feed read (or Socket Mode pushed) in an incident's channel: the
        team events among them applied, once that channel is caught up (before, the
        catch-up's read brings them too)."""
        if self.team is None or not any("metadata" in m for m in messages):
            return
        iid = self._team_channels.get(channel)
        if iid is None or channel not in self._caught_up:
            if self._team_wake is not None:
                self._team_wake.set()
            return
        self._teammates_in(messages)
        self._applied(self.team.apply(iid, messages, channel))

    def _teammates_in(self, messages: list[dict[str, Any]]) -> None:
        """(On the remote loop.) A teammate's cockpit posts in an incident's channel: it
        may be connected to Slack as the same app, and Slack hands each of an app's
        Socket Mode events to one of its connections only, so pushes alone would bring
        this cockpit about one change in two (the rest a minute later, by the safety-net
        poll). The active incident's channel is read every few seconds from then on."""
        poller, team = self.poller, self.team
        if poller is None or team is None or poller.spread:
            return
        from cockpit.domain.team import decode_events

        if any(r.event.origin != team.origin for m in messages for r in decode_events(m)):
            poller.pushes_spread()

    def _applied(self, done: Applied) -> None:
        if done.changed or done.applied:
            self._on_change(done.incident_id)
        for conflict in done.conflicts:
            self._on_status(f"#{done.incident_id}: conflict to settle: {conflict}")

    def look_for_raise(self, thread: str, done: Callable[[Received | None, str], None]) -> bool:
        """Before raising from a report (its permalink): another cockpit's raise in its
        thread? `done(found, problem)` is called from the remote thread. False when it
        cannot look (no Slack, not started, not a Slack message's link)."""
        from cockpit.domain.incident import Link
        from cockpit.integrations.outbox import thread_of

        loop, watch = self._loop, self.watch
        where = thread_of(Link(thread)) if thread else None
        if loop is None or watch is None or where is None:
            return False

        async def look() -> None:
            try:
                async with asyncio.timeout(RAISE_LOOK_DEADLINE):
                    with polling(POLL_DEADLINE):
                        found = await watch.look_for_raise(*where)
            except (RemoteError, TimeoutError) as e:
                done(None, str(e) or "Slack did not answer in time")
                return
            done(found, "")

        try:
            asyncio.run_coroutine_threadsafe(look(), loop)
        except RuntimeError:  # the loop has closed
            return False
        return True

    def _use_names(
        self,
        source: MessageSource,
        tasks: list[asyncio.Task[Any]],
        on_status: Callable[[str], None],
    ) -> None:
        """The feed reads names (people, channels, groups, bots) kept on disk from the last
        run, and dates in the user's zone; what it learns is saved every `NAMES_SAVE_EVERY`
        seconds (and when it stops), crash-safely, off the loop."""
        if isinstance(source, SlackClient):
            source.tz = self.settings.tz
        if self.name_cache is None:
            return
        cache, book = self.name_cache, source.names
        book.load(cache.load())
        if cache.problem:
            log.warning("names cache ignored: %s", cache.problem)

        async def keep() -> None:
            while True:
                await asyncio.sleep(NAMES_SAVE_EVERY)
                if book.dirty:
                    data = book.to_dict()
                    try:
                        await asyncio.to_thread(cache.save, data)
                    except OSError as e:
                        book.dirty = True
                        on_status(f"names cache: {e.strerror}")

        self._names = book
        tasks.append(asyncio.create_task(keep(), name="names-cache"))

    def _save_names(self) -> None:
        book = getattr(self, "_names", None)
        if book is None or self.name_cache is None or not book.dirty:
            return
        try:
            self.name_cache.save(book.to_dict())
        except OSError as e:
            log.warning("names cache not saved: %s", e)

    def _start_socket(
        self, tasks: list[asyncio.Task[Any]], on_status: Callable[[str], None]
    ) -> None:
        """Socket Mode alongside the poller, when there is an app-level token and the config
        does not turn it off (`[slack] socket_mode = false`)."""
        s, poller = self.settings.slack, self.poller
        assert s is not None and poller is not None
        if s.socket_mode is False:
            self._feed_state = FeedState("polling", f"{POLLING_ONLY} (socket_mode = false)")
            return
        app_token = self.token(APP_TOKEN)
        if not app_token:
            self._feed_state = FeedState(
                "polling", f"{POLLING_ONLY} (no app-level token: cockpit auth set {APP_TOKEN})"
            )
            if s.socket_mode:  # asked for in the config: say why it is not on
                on_status(f"Slack Socket Mode: no app-level token (cockpit auth set {APP_TOKEN})")
            return
        self.app_slack = SlackClient(s.api_url, app_token, **self.client_kw)
        self._feed_state = FeedState("connecting", f"connecting to Slack; {POLLING_ONLY}")
        self.socket = SlackSocket(
            self.app_slack,
            poller.take_messages,
            on_live=poller.set_live,
            on_status=self._socket_status,
            before_open=poller.spend_open,
        )
        tasks.append(asyncio.create_task(self.socket.run(), name="slack-socket"))

    def _socket_status(self, status: SocketStatus) -> None:
        if status.num_connections > 1 and self.poller is not None:
            self.poller.pushes_spread()  # (another cockpit of this app: see _teammates_in)
        if status.state == "connected":
            self._feed_state = FeedState("connected", "new messages arrive as they are posted")
        elif status.state in ("connecting", "reconnecting"):
            why = f"{status.detail}; " if status.detail else ""
            self._feed_state = FeedState(status.state, f"{why}{POLLING_ONLY} meanwhile")
        elif status.state == "failed":
            self._feed_state = FeedState("polling", f"{POLLING_ONLY}: {status.detail}")

    def _watch_open_incidents(self) -> None:
        if self.poller is None:
            return
        from cockpit.integrations.outbox import thread_of

        names = []
        for inc in self.store.load_incidents(
            [s.id for s in self.store.list_incidents(open_only=True)]
        ):
            if inc.links.channel is not None:
                names.append(inc.links.channel.label)
            where = thread_of(inc.links.thread)
            if where is not None:
                self.poller.watch_thread_in(*where)
        self.poller.watch_channels(names)

    def changed(self, incident: Incident) -> None:
        """An incident changed: watch its channel (once created) and its report thread."""
        from cockpit.integrations.outbox import thread_of

        presence, loop = self.presence, self._loop
        if presence is not None and loop is not None:
            loop.call_soon_threadsafe(presence.show, incident)
        with self._changed_lock:
            poller, loop = self.poller, self._loop
            if poller is None or loop is None:  # not polling yet: once it starts
                self._first_changed = incident
                return
        if incident.links.channel:  # the active incident: its channel is polled often
            self._shown_incident = incident.id
            label = incident.links.channel.label
            loop.call_soon_threadsafe(poller.set_active_channel, label)
            if self._team_wake is not None:  # (a channel made or joined: catch it up)
                loop.call_soon_threadsafe(self._team_wake.set)
            if label != self._shown_channel or not incident.is_open:
                # another incident shown, or this one ended: the ended ones' channels go
                self._shown_channel = label
                loop.call_soon_threadsafe(self._rewatch)
        where = thread_of(incident.links.thread)
        if where is not None:
            loop.call_soon_threadsafe(poller.watch_thread_in, *where)
        tracker, ticket = self.tracker, incident.links.ticket
        if tracker is not None and ticket is not None and incident.is_open:
            loop.call_soon_threadsafe(tracker.look, ticket.label)  # (read at its opening)

    def _rewatch(self) -> None:
        """(On the remote loop.) The open incidents' channels, read off the loop, and the
        one shown stay watched; an ended incident's is dropped."""

        async def rewatch() -> None:
            try:
                names = await asyncio.to_thread(self._open_channel_labels)
            except Exception:  # the store: said in the log, the watch list stays as it is
                log.exception("the open incidents' channels could not be read")
                return
            if self.poller is not None:
                self.poller.keep_channels(names)

        task = asyncio.ensure_future(rewatch())
        self._rewatching.add(task)
        task.add_done_callback(self._rewatching.discard)

    def _open_channel_labels(self) -> list[str]:
        ids = [s.id for s in self.store.list_incidents(open_only=True)]
        return [i.links.channel.label for i in self.store.load_incidents(ids) if i.links.channel]

    def on_screen(self, keys: list[tuple[str, str]]) -> None:
        """These feed messages ((channel, ts)) are on screen with names not known yet:
        the feed looks those names up before any other (on its own thread)."""
        with self._changed_lock:
            poller, loop = self.poller, self._loop
        if poller is not None and loop is not None and keys:
            loop.call_soon_threadsafe(poller.show_first, list(keys))

    def enqueue(self, items: list[OutboxItem]) -> None:
        if not items:
            return
        if self.sender is not None:
            self.sender.enqueue(items)
        else:  # not started yet: the sender finds them on disk when it starts
            for item in items:
                self.store.put_doc(item.incident_id, "outbox", item.to_dict())

    def items(self, incident_id: str) -> list[OutboxItem]:
        docs = self.store.docs(incident_id, "outbox")
        return sorted((OutboxItem.from_dict(d) for d in docs), key=lambda i: i.id)

    async def _watchdog(self) -> None:
        alive = getattr(self, "_alive", lambda: True)
        while alive():
            await asyncio.sleep(0.25)
        self.stop()

    def stop(self) -> None:
        """Stop sending and polling (any thread, any number of times; once the remote
        loop has ended there is nothing left to stop)."""
        if self.sender is not None:
            self.sender.stop()
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def stop_all() -> None:
            if self.poller is not None:
                self.poller.stop()
            if self.socket is not None:
                self.socket.stop()
            for task in asyncio.all_tasks(loop):
                task.cancel()

        with contextlib.suppress(RuntimeError):  # it closed meanwhile
            loop.call_soon_threadsafe(stop_all)
