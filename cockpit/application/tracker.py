"""From the tracker: a status or priority change made in Jira itself, seen and applied.

Each open incident with a ticket has its ticket read now and then (`TrackerWatch`: on
opening, then about once a minute; several open ones in one JQL search `key in (…)`):
its status, its priority and the custom severity field of `[jira.severity]`.

What was read is judged against what this cockpit last read of the ticket (the baseline,
kept in the incident's file, table "tracker") and what it holds:

* only a change in Jira since the last read counts (a ticket that never took a value
  cockpit sent, e.g. a screen without Priority, is not a change);
* a ticket that agrees with the incident is no news (our own transition, read back:
  never an echo);
* while one of this cockpit's own Jira writes is still going (or failed, to be retried:
  until a change Jira made after it failed), the ticket is not judged: it may be behind us;
* a change must be seen on two reads in a row (`confirm` seconds apart) before it is
  applied: a teammate's change reaches both Jira and the incident's channel, and the
  channel's team event (read meanwhile) makes the incident agree;
* a confirmed change is applied when it is a legal move ("Jira: status changed to FIXING
  (by Jira)" at the time Jira says it happened, its `updated`); an illegal one is kept as
  a conflict to settle with `C` (the team ledger's), never applied;
* a change applied is also told in the incident's channel (`TrackerSync(team=…)`), as a
  team event whose id is made of the ticket, the change and Jira's time of it: a cockpit
  holding its judgement (its own write going) gets it from there, and one that read it in
  Jira too has made the very same event, so each applies it once, into the same entry
  (the event's words: "MONITORING → FIXING: changed in Jira (INC-7 is Fixing)").

The status map inverts `[jira.transitions]`: a Jira status named as a transition is (its
name is often its status's), the status category "To Do" is REPORTED, and a status this
cockpit's own transition led to is learned (kept with the baseline). The severity map
inverts `[jira.severity]`: the custom field's option first, then the priority (when only
one severity maps to it).

No Textual here; `TrackerWatch.read` makes the Jira requests (on the remote thread's loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec

from cockpit.application.outbox import OUTBOX, keep_item_in
from cockpit.application.service import IncidentService, normalize_id
from cockpit.domain.clock import utc
from cockpit.domain.errors import IllegalTransition
from cockpit.domain.incident import TRANSITIONS, Incident, Severity, Status
from cockpit.domain.outbox import OutboxItem, OutboxState
from cockpit.domain.sanitize import sanitize
from cockpit.domain.team import (
    LEDGER_TABLE,
    BadEvent,
    Known,
    Seen,
    TeamEvent,
    TeamKey,
    TeamKind,
)
from cockpit.domain.team import entry_id as team_entry_id
from cockpit.domain.timeline import EntryKind, TimelineEntry
from cockpit.integrations.errors import RemoteError
from cockpit.integrations.jira.client import jira_time
from cockpit.store.store import IncidentChange

if TYPE_CHECKING:
    from cockpit.application.team import TeamSync

log = logging.getLogger("cockpit.tracker")

TRACKER_TABLE: Final = "tracker"
BASELINE_ID: Final = "jira"
BASELINE_VERSION: Final = 1
ORIGIN: Final = "jira"  # the origin of a conflict kept from the tracker
READ_EVERY: Final = 60.0  # seconds between reads of an open incident's ticket
CONFIRM_AFTER: Final = 20.0  # seconds before a change seen once is read again
JIRA_SKEW: Final = timedelta(seconds=5)  # Jira's clock and ours need not agree exactly
RECENT: Final = timedelta(hours=24)  # an ended incident's ticket is watched this long
# this cockpit's own writes to the ticket: while one is going, the ticket may be behind us
TRANSIENT_READS: Final = 3  # failed reads in a row retried soon (TrackerLoop.retry_in)
OWN_WRITES: Final = frozenset({"jira.create_issue", "jira.transition", "jira.set_severity"})
# the namespace of the ids of team events made of a change read in Jira
_FROM_JIRA: Final = uuid.UUID("6f1c2a4e-1f0b-5c52-9d4e-6a7b3c1d2e0f")
_TRANSITION_KEYS: Final = {
    Status.FIXING: "transition_fixing",
    Status.MONITORING: "transition_monitoring",
    Status.RESOLVED: "transition_resolved",
    Status.CANCELED: "transition_canceled",
}


@dataclass(frozen=True)
class TicketState:
    """What Jira holds of a ticket, as read (sanitized text)."""

    key: str
    status: str = ""  # the status's name
    category: str = ""  # its category's key: new, indeterminate, done
    priority: str = ""
    severity_value: str = ""  # the custom severity field's option
    updated: datetime | None = None

    def values(self) -> dict[str, str]:
        return {
            "status": self.status,
            "priority": self.priority,
            "severity_value": self.severity_value,
        }

    @classmethod
    def of_fields(cls, key: str, fields: Mapping[str, Any], severity_field: str) -> TicketState:
        """From an issue's `fields` (as the REST API returns them)."""
        status = fields.get("status")
        name = category = ""
        if isinstance(status, Mapping):
            name = _text(status.get("name"))
            cat = status.get("statusCategory")
            category = _text(cat.get("key")) if isinstance(cat, Mapping) else ""
        priority = fields.get("priority")
        sev = fields.get(severity_field) if severity_field else None
        return cls(
            key=key,
            status=name,
            category=category,
            priority=_text(priority.get("name")) if isinstance(priority, Mapping) else "",
            severity_value=_text(sev.get("value")) if isinstance(sev, Mapping) else "",
            updated=jira_time(fields.get("updated")),
        )


def _text(value: object) -> str:
    return sanitize(value, single_line=True).strip()[:120] if isinstance(value, str) else ""


class TrackerMap:
    """Jira's status, priority and severity field ↔ the incident's status and severity,
    from `[jira.transitions]` and `[jira.severity]` (see the module doc)."""

    def __init__(
        self,
        transitions: Mapping[Status, str],
        priority: Mapping[str, str],
        severity_field: str = "",
        severity_values: Mapping[str, str] | None = None,
    ) -> None:
        self.transitions = {s: n.casefold() for s, n in transitions.items() if n}
        self.severity_field = severity_field
        self._by_value = _invert(severity_values or {})
        self._by_priority = _invert(priority)

    @classmethod
    def of_settings(cls, s: Any) -> TrackerMap:
        """From `JiraSettings` (duck-typed: the application layer reads no config module)."""
        return cls(
            {st: str(getattr(s, attr)) for st, attr in _TRANSITION_KEYS.items()},
            dict(s.priority),
            str(s.severity_field),
            dict(s.severity_values),
        )

    def status_of(self, state: TicketState, learned: Mapping[str, str]) -> Status | None:
        name = state.status.casefold()
        if not name:
            return None
        for status, wanted in self.transitions.items():
            if wanted == name:
                return status
        if name in learned:
            try:
                return Status(learned[name])
            except ValueError:
                return None
        if state.category == "new":
            return Status.REPORTED
        return None

    def severity_of(self, state: TicketState, *, by_priority: bool = False) -> Severity | None:
        """The severity the custom field's option says (or, `by_priority`, the priority)."""
        if by_priority:
            return self._by_priority.get(state.priority.casefold()) if state.priority else None
        if self.severity_field and state.severity_value:
            return self._by_value.get(state.severity_value.casefold())
        return None


def _invert(mapping: Mapping[str, str]) -> dict[str, Severity]:
    """A Jira name → the one severity it stands for (a name two severities map to says
    nothing; the `unset` guess is no severity: a ticket changed to it in Jira changed to
    the severity that shares its name, if one does)."""
    out: dict[str, Severity] = {}
    twice: set[str] = set()
    for key, name in mapping.items():
        try:
            severity = Severity(key)
        except ValueError:
            continue
        k = name.casefold()
        if k in out:
            twice.add(k)
        out[k] = severity
    return {k: v for k, v in out.items() if k not in twice}


@dataclass
class Baseline:
    """What this cockpit last read of the ticket (and the statuses it learned)."""

    values: dict[str, str] = field(default_factory=dict)
    learned: dict[str, str] = field(default_factory=dict)  # jira status (casefold) → status
    updated: str = ""
    ours: str = ""  # our last transition sent when this was read (its outbox item's id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": BASELINE_ID,
            "v": BASELINE_VERSION,
            "values": dict(self.values),
            "learned": dict(self.learned),
            "updated": self.updated,
            "ours": self.ours,
        }

    @classmethod
    def from_docs(cls, docs: Iterable[Mapping[str, Any]]) -> Baseline | None:
        for d in docs:
            if d.get("id") != BASELINE_ID or d.get("v") != BASELINE_VERSION:
                continue
            values, learned = d.get("values"), d.get("learned")
            return cls(
                {str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else {},
                {str(k): str(v) for k, v in learned.items()} if isinstance(learned, dict) else {},
                str(d.get("updated") or ""),
                str(d.get("ours") or ""),
            )
        return None


@dataclass(frozen=True)
class Move:
    """A change made in Jira, as this cockpit would apply it."""

    kind: TeamKind  # STATUS or SEVERITY
    to: str  # the status's or severity's value
    jira: str  # what Jira shows ("Fixing", "High")
    legal: bool = True
    why: str = ""  # an illegal move: why, in plain words


@dataclass
class Judgement:
    """What a read of the ticket means for the incident (pure: `judge`)."""

    moves: list[Move] = field(default_factory=list)
    baseline: Baseline | None = None  # to keep (None: keep the one there is)
    held: bool = False  # our own write is going: not judged
    unknown_status: str = ""  # a Jira status no cockpit status maps to (changed to)

    @property
    def news(self) -> bool:
        return bool(self.moves or self.unknown_status)


def judge(
    incident: Incident,
    state: TicketState,
    baseline: Baseline | None,
    tmap: TrackerMap,
    *,
    own_writes: Sequence[OutboxItem] = (),
) -> Judgement:
    """The changes made in Jira that `state` shows (see the module doc)."""
    out = Judgement()
    going = [i for i in own_writes if i.state.pending or _failed_behind(i, state)]
    if going:
        out.held = True
        return out
    learned = dict(baseline.learned) if baseline is not None else {}
    status = tmap.status_of(state, learned)
    sent = [
        i for i in own_writes if i.operation == "jira.transition" and i.state is OutboxState.SENT
    ]
    last = max(sent, key=lambda i: (i.updated_at, i.id), default=None)
    ours_now = last is not None and str(last.params.get("to")) == incident.status.value
    if status is None and state.status and ours_now:
        # the status our last transition (sent) led to: learned, it is ours
        learned[state.status.casefold()] = incident.status.value
        status = incident.status
    new = Baseline(
        state.values(),
        learned,
        state.updated.isoformat() if state.updated is not None else "",
        last.id if last is not None else "",
    )
    out.baseline = new
    if baseline is None:
        return out  # the first read: what the ticket holds now is where we start
    before = baseline.values
    moved = bool(state.status) and state.status != before.get("status")
    if last is not None and last.id != baseline.ours:
        # a move of ours went since that read (the reads were held while it went): the
        # ticket was at its status then, whatever that read said. Moved back in Jira to
        # what that read showed (Fixing, ours Monitoring, Fixing again) is a change too
        moved = bool(state.status) and (status is None or status.value != last.params.get("to"))
    if moved:
        if status is None:
            out.unknown_status = state.status
        elif status is not incident.status:
            legal = status in TRANSITIONS[incident.status]
            why = ""
            if not legal:
                why = (
                    f"Jira moved {state.key} to {state.status} ({status.label}), "
                    f"but it is {incident.status.label} here"
                )
            out.moves.append(Move(TeamKind.STATUS, status.value, state.status, legal, why))
    # the custom severity field first (it says the severity itself), else the priority
    severity, shown = None, ""
    if state.severity_value and state.severity_value != before.get("severity_value"):
        severity, shown = tmap.severity_of(state), state.severity_value
    if severity is None and state.priority and state.priority != before.get("priority"):
        severity, shown = tmap.severity_of(state, by_priority=True), state.priority
    if severity is not None and severity is not incident.severity:
        out.moves.append(Move(TeamKind.SEVERITY, severity.value, shown))
    return out


def _failed_behind(item: OutboxItem, state: TicketState) -> bool:
    """A write of ours that failed (to be retried by the person) holds the judgement of
    what the ticket showed until then; a change Jira made after it failed is not its
    shadow (it holds no more: else nothing changed in Jira would be seen meanwhile)."""
    if item.state is not OutboxState.FAILED:
        return False
    return state.updated is None or state.updated <= utc(item.updated_at) + JIRA_SKEW


@dataclass
class TrackerApplied:
    """What a read of one ticket changed on its incident."""

    incident_id: str
    applied: list[str] = field(default_factory=list)  # in plain words
    conflicts: list[str] = field(default_factory=list)
    unknown_status: str = ""
    changed: bool = False


class TicketReader(Protocol):
    """What `TrackerWatch` needs of Jira's client (`JiraClient.issues_by_key`)."""

    async def issues_by_key(self, keys: Iterable[str], fields: Iterable[str]) -> Sequence[Any]: ...


def ticket_fields(severity_field: str) -> list[str]:
    """The fields a read of a ticket asks for."""
    return ["status", "priority", "updated", *([severity_field] if severity_field else [])]


class TrackerSync:
    """Judges a read of an incident's ticket and applies it, in one write."""

    def __init__(
        self, service: IncidentService, tmap: TrackerMap, *, team: TeamSync | None = None
    ) -> None:
        """`team`: a change applied from Jira is also told in the incident's channel (a
        teammate's cockpit may not see it in Jira: its own write to the ticket going)."""
        self.service = service
        self.tmap = tmap
        self.team = team

    def pending(self, incident_id: str, state: TicketState) -> bool:
        """Whether `state` shows a change to apply (read without writing: a change is
        applied only once a second read confirms it)."""
        svc = self.service
        iid = normalize_id(incident_id)
        incident = svc.store.load_incidents([iid])
        if not incident:
            return False
        baseline = Baseline.from_docs(svc.store.docs(iid, TRACKER_TABLE))
        writes = _own_writes(svc.store.docs(iid, OUTBOX))
        return judge(incident[0], state, baseline, self.tmap, own_writes=writes).news

    def apply(self, incident_id: str, state: TicketState) -> TrackerApplied:
        """Apply what `state` shows changed in Jira (see the module doc), in one write."""
        svc = self.service
        iid = normalize_id(incident_id)
        result = TrackerApplied(iid)

        def change(ch: IncidentChange) -> TrackerApplied:
            inc = ch.incident
            ch.save = False
            baseline = Baseline.from_docs(ch.current_docs(TRACKER_TABLE))
            writes = _own_writes(ch.current_docs(OUTBOX))
            j = judge(inc, state, baseline, self.tmap, own_writes=writes)
            if j.held:
                return result
            if j.baseline is not None and (baseline is None or j.baseline != baseline):
                ch.put_doc(TRACKER_TABLE, j.baseline.to_dict())
            now = svc.clock.now()
            at = _when(inc, state.updated, now)
            result.unknown_status = j.unknown_status
            for move in j.moves:
                self._apply_move(ch, state, move, at, now, result)
            return result

        return svc.store.change(iid, change)

    def _apply_move(
        self,
        ch: IncidentChange,
        state: TicketState,
        move: Move,
        at: datetime,
        now: datetime,
        result: TrackerApplied,
    ) -> None:
        inc = ch.incident
        stamp = state.updated.isoformat() if state.updated is not None else now.isoformat()
        entry_id = f"jira-{state.key}-{move.kind.value}-{move.to}-{stamp}"
        label = move.to.upper() if move.kind is TeamKind.STATUS else move.to.capitalize()
        what = "status" if move.kind is TeamKind.STATUS else "severity"
        text = f"Jira: {what} changed to {label} (by Jira: {state.key} is {move.jira})"
        kind = EntryKind.STATUS if move.kind is TeamKind.STATUS else EntryKind.SEVERITY
        link = _browse(inc)
        if move.legal:
            event = self._team_event(ch, state, move, at, stamp)
            try:
                if move.kind is TeamKind.STATUS:
                    inc.transition(Status(move.to), at=at, by="", reason="canceled in Jira")
                else:
                    inc.set_severity(Severity(move.to), at=at, by="")
            except IllegalTransition as e:  # (judged legal from this very state: kept safe)
                move = replace(move, legal=False, why=str(e))
            else:
                ch.save = True
                result.changed = True
                result.applied.append(text)
                if move.kind is TeamKind.STATUS:
                    _supersede_transitions(ch, state.key, Status(move.to), now)
                if event is not None and self.team is not None:
                    # told in the channel too, as the event every cockpit that reads this
                    # change in Jira makes (the same id): each applies it once, from Jira
                    # or from the channel, into the same entry
                    self.team.queue(ch, [event])
                    entry_id, text, link = team_entry_id(event.id), event.describe(), ""
        if not move.legal:
            text += f" — not applied here: {move.why}"
            self._keep_conflict(ch, state, move, at)
            result.conflicts.append(move.why)
        ch.entries.append(
            TimelineEntry(
                id=entry_id,
                incident_id=inc.id,
                kind=kind,
                text=sanitize(text),
                event_at=at,
                recorded_at=utc(now),
                author="Jira",
                link=link,
            )
        )

    def _team_event(
        self, ch: IncidentChange, state: TicketState, move: Move, at: datetime, stamp: str
    ) -> TeamEvent | None:
        """The team event for a change read in Jira (before it is applied here): its id
        made of the ticket, the change and Jira's time of it, so the cockpits that read it
        make the same one. None: no team here, no channel yet, or the channel told it."""
        inc = ch.incident
        key = TeamKey.of(inc)
        if self.team is None or not self.team.enabled or not key.channel:
            return None
        event_id = str(uuid.uuid5(_FROM_JIRA, f"{state.key}|{move.kind.value}|{move.to}|{stamp}"))
        if any(d.get("id") == event_id for d in ch.current_docs(LEDGER_TABLE)):
            return None
        data: dict[str, object]
        if move.kind is TeamKind.STATUS:
            said = f"changed in Jira ({state.key} is {move.jira})"
            data = {"to": move.to, "from": inc.status.value, "reason": said[:300]}
        else:
            was = inc.severity.value if inc.severity is not None else ""
            data = {"to": move.to, "from": was}
        try:
            return TeamEvent.new(
                move.kind, key, data, at=at, by="Jira", origin=self.team.origin, event_id=event_id
            )
        except BadEvent as e:
            log.warning("change from Jira not shared: %s", e)
            return None

    def _keep_conflict(
        self, ch: IncidentChange, state: TicketState, move: Move, at: datetime
    ) -> None:
        """An illegal move from Jira: kept in the team ledger as a conflict, settled with
        `C` as a teammate's is."""
        inc = ch.incident
        data: dict[str, object] = {"to": move.to, "from": inc.status.value}
        try:
            event = TeamEvent.new(
                TeamKind.STATUS, TeamKey.of(inc), data, at=at, by="Jira", origin=ORIGIN
            )
        except BadEvent as e:
            log.warning("conflict from Jira not kept: %s", e)
            return
        known = Known(event, state=Seen.CONFLICT, conflict=move.why)
        ch.put_doc(LEDGER_TABLE, known.to_dict())


def _supersede_transitions(ch: IncidentChange, key: str, to: Status, now: datetime) -> None:
    """Jira's move applied here: a move of ours to another status that failed (waiting
    for the person to retry or discard it) is discarded, with why. Retried, it would
    undo what was done in Jira with what this cockpit wanted before it knew; a move the
    person still wants is one more change of status, sent as any other."""
    for doc in ch.current_docs(OUTBOX):
        if doc.get("operation") != "jira.transition" or doc.get("state") != "failed":
            continue
        try:
            item = OutboxItem.from_dict(dict(doc))
        except (KeyError, ValueError, TypeError):
            continue
        if str(item.params.get("to")) == to.value:
            continue
        why = f"not sent: {key} was moved to {to.label} in Jira meanwhile"
        keep_item_in(ch, msgspec.structs.replace(item.discarded(at=now), reason=why), now)


def _own_writes(docs: Iterable[Mapping[str, Any]]) -> list[OutboxItem]:
    out = []
    for d in docs:
        if d.get("operation") not in OWN_WRITES:
            continue
        try:
            out.append(OutboxItem.from_dict(dict(d)))
        except (KeyError, ValueError, TypeError):
            continue
    return out


def _when(incident: Incident, updated: datetime | None, now: datetime) -> datetime:
    """The time Jira says it changed, within the report and now."""
    at = utc(updated) if updated is not None else utc(now)
    return max(min(at, utc(now)), incident.first_reported_at)


def _browse(incident: Incident) -> str:
    link = incident.links.ticket
    return link.url if link is not None and link.url.startswith(("https://", "http://")) else ""


def watched_tickets(store: Any, now: datetime) -> dict[str, str]:
    """Ticket → incident id of the incidents whose tickets are watched: the open ones, and
    those ended in the last `RECENT` (a reopen in Jira is then a conflict to settle)."""
    since = utc(now) - RECENT
    ids = []
    for s in store.list_incidents():
        ended = s.resolved_at or s.canceled_at
        if s.is_open or (ended is not None and utc(ended) > since):
            ids.append(s.id)
    found = {}
    for inc in store.load_incidents(ids):
        ticket = TeamKey.of(inc).ticket
        if ticket:
            found[ticket] = inc.id
    return found


Apply = Callable[[str, TicketState], Awaitable[TrackerApplied]]
Pending = Callable[[str, TicketState], Awaitable[bool]]


class TrackerWatch:
    """Reads the open incidents' tickets (one search for several) and hands each to
    `apply`; a change seen once is confirmed by a read `confirm` seconds later (`due`
    says when a read is next wanted)."""

    def __init__(
        self,
        client: TicketReader,
        apply: Apply,
        pending: Pending,
        *,
        severity_field: str = "",
        every: float = READ_EVERY,
        confirm: float = CONFIRM_AFTER,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.apply = apply
        self.pending = pending
        self.severity_field = severity_field
        self.every = every
        self.confirm = confirm
        self.monotonic = monotonic
        self.last: dict[str, float] = {}  # ticket → when it was read last
        self.seen: dict[str, TicketState] = {}  # a change seen once, to confirm
        self.unknown: dict[str, str] = {}  # ticket → an unmapped status said once

    def due(self, tickets: Mapping[str, str]) -> list[str]:
        """The tickets (of `tickets`: ticket → incident id) to read now."""
        now = self.monotonic()
        out = []
        for key in tickets:
            wait = self.confirm if key in self.seen else self.every
            if now - self.last.get(key, float("-inf")) >= wait:
                out.append(key)
        return out

    def next_in(self, tickets: Mapping[str, str]) -> float:
        """Seconds until a ticket of `tickets` is due."""
        now, best = self.monotonic(), self.every
        for key in tickets:
            wait = self.confirm if key in self.seen else self.every
            best = min(best, max(0.0, self.last.get(key, float("-inf")) + wait - now))
        return best

    async def read(self, tickets: Mapping[str, str]) -> list[TrackerApplied]:
        """Read these tickets (ticket → incident id) now, in one request or search."""
        if not tickets:
            return []
        keys = sorted(tickets)
        issues = await self.client.issues_by_key(keys, ticket_fields(self.severity_field))
        states = [TicketState.of_fields(i.key, i.fields, self.severity_field) for i in issues]
        now = self.monotonic()
        done = []
        for key in keys:
            self.last[key] = now
        for state in states:
            iid = tickets.get(state.key)
            if iid is None:
                continue
            first = self.seen.get(state.key)
            if first is None or first.values() != state.values():
                if await self.pending(iid, state):
                    self.seen[state.key] = state  # read it again soon to confirm
                    continue
                self.seen.pop(state.key, None)
            else:
                self.seen.pop(state.key, None)
            result = await self.apply(iid, state)
            if result.unknown_status and self.unknown.get(state.key) == result.unknown_status:
                result.unknown_status = ""  # said once
            elif result.unknown_status:
                self.unknown[state.key] = result.unknown_status
            done.append(result)
        return done


class TrackerLoop:
    """The tracker watch on the remote thread's loop: the open incidents' tickets read when
    due (a new one at once, `look` for one shown now), each result reported."""

    def __init__(
        self,
        watch: TrackerWatch,
        tickets: Callable[[], Mapping[str, str]],
        report: Callable[[TrackerApplied], None],
        *,
        guard: Callable[[], Any] | None = None,
    ) -> None:
        self.watch = watch
        self.tickets = tickets  # (blocking: the store) ticket → open incident id
        self.report = report
        self.guard = guard  # a context manager around each read (the polling deadline)
        self._wake: asyncio.Event | None = None
        self._not_before = 0.0  # after a failure: Jira again later, less and less often
        self._failures = 0
        self._shown = ""

    def look(self, ticket: str) -> None:
        """(On the loop.) Read this ticket at the next turn when it is the incident shown
        now (opened, or switched to; not at each change of the one shown)."""
        if ticket == self._shown:
            return
        self._shown = ticket
        self.watch.last.pop(ticket, None)
        if self._wake is not None:
            self._wake.set()

    def poke(self) -> None:
        """(On the loop.) Look at what is due now (the periods may have changed)."""
        if self._wake is not None:
            self._wake.set()

    def retry_in(self, e: RemoteError) -> float:
        """After a failed read: a passing fault (a 5xx, a lost answer, a 429) is read
        again soon, 5, 10 then 20 s after (one read in five refused kept every change
        made in Jira out for minutes at 60 s, 120 s, 240 s); then, and after a lasting
        error (refused credentials), less and less often, up to 10 minutes."""
        n = self._failures
        if e.retryable or e.ambiguous:
            if n <= TRANSIENT_READS:
                return 5.0 * 2.0 ** (n - 1)
            n -= TRANSIENT_READS
        return min(600.0, 30.0 * 2.0**n)

    async def run(self) -> None:
        self._wake = asyncio.Event()
        while True:
            self._wake.clear()
            wait = self.watch.every
            try:
                tickets = dict(await asyncio.to_thread(self.tickets))
                due = self.watch.due(tickets)
                if due and self.watch.monotonic() >= self._not_before:
                    with self.guard() if self.guard is not None else contextlib.nullcontext():
                        done = await self.watch.read({k: tickets[k] for k in due})
                    self._failures = 0
                    for result in done:
                        self.report(result)
                wait = self.watch.next_in(tickets) if tickets else self.watch.every
            except asyncio.CancelledError:
                raise
            except RemoteError as e:  # Jira again later (a read is never urgent)
                log.info("tracker read: %s", e)
                self._failures += 1
                wait = max(e.retry_after or 0.0, self.retry_in(e))
                self._not_before = self.watch.monotonic() + wait
            except Exception:  # never let it end the remote side
                log.exception("tracker read failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(1.0, wait))
