"""Team events: what one cockpit tells the others about an incident, through its channel.

Two responders run cockpit on their own machines, each with its own store. Every change
another responder needs (a status, the severity, the assess answers, a role, a checklist
tick, a timeline entry, a draft sent, a status-page update, a hand-off, the raise itself)
becomes a `TeamEvent`: posted in the incident's channel as a message people can read,
carrying Slack message metadata for cockpits:

    {"event_type": "cockpit_status_changed",
     "event_payload": {"v": 1, "id": "<uuid>", "ticket": "INC-12", "channel": "C0…",
                       "at": "<ISO time it happened>", "by": "Ana", "origin": "<cockpit>",
                       "data": {"from": "reported", "to": "fixing", "reason": ""}}}

Slack's payload values are strings, numbers, booleans, objects of those, or lists of
such objects: `data` is one flat object of scalars.

Slack takes about one message a second per channel, so the events of one change (a status
and the tick it makes), and those queued behind each other, go out together as one
message: `batch_metadata` carries them as a list, in the order they happened,

    {"event_type": "cockpit_events_shared",
     "event_payload": {"v": 1, "events": [{"event_type": …, "event_payload": {…}}, …]}}

and `decode_events` reads either form. Events of one message are ordered by their place in
its list (`Received.seq`) after the message's ts.

Metadata is read from Slack, where anyone in the channel can post some: `decode_metadata`
checks every type and size, sanitizes every text, and quietly refuses what it does not
know (another app's event types, a newer payload version, a malformed field).

`TeamLedger.receive` applies an event to an incident (the application layer calls it
inside `Store.change`, with the ledger kept in the incident's file):

* idempotent by event id: an event seen before changes nothing;
* entries keep the time the event happened (`at`, clamped to the incident's report and
  to the message's own time on Slack: a hostile time cannot move an entry anywhere);
* a field (status, severity, assessment, each role, each checklist item) is a register
  whose value is the event with the highest remote order (Slack's message ts, then the
  event id). One of our own changes not yet posted counts as newest (its ts will be
  later than anything already in the channel); one whose post failed counts not at all.
  Every cockpit that has seen the same events holds the same winners;
* a winning status that is not a legal transition from the status held here is a
  recorded conflict to settle, shown, never applied.

Pure: no I/O, no Slack client; the application layer posts and reads.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from cockpit.domain.checklist import Tick
from cockpit.domain.clock import from_iso, to_iso, utc
from cockpit.domain.drafts import Draft, DraftState
from cockpit.domain.errors import IllegalTransition
from cockpit.domain.escape import slack_escape
from cockpit.domain.incident import (
    TRANSITIONS,
    Assessment,
    Incident,
    Link,
    Role,
    Severity,
    Status,
    severity_text,
    status_page_text,
)
from cockpit.domain.sanitize import sanitize
from cockpit.domain.timeline import EntryKind, TimelineEntry

PAYLOAD_VERSION: Final = 1
LEDGER_VERSION: Final = 1
LEDGER_TABLE: Final = "team"  # the table of an incident's file that keeps the ledger
# Our own cap on a metadata object, serialized (Slack refuses large ones with
# metadata_too_large): what we post stays well under it, what we read above it is refused.
MAX_METADATA_BYTES: Final = 8000
MAX_TEXT: Final = 2000  # a note's text
MAX_LINE: Final = 300  # a title, a reason, a target
MAX_NAME: Final = 80  # a person
MAX_URL: Final = 500
CLOCK_SKEW: Final = timedelta(minutes=2)  # how far `at` may be after the message's own time
BATCH_TYPE: Final = "cockpit_events_shared"  # one message carrying several events
MAX_BATCH: Final = 20  # events in one message


class TeamKind(StrEnum):
    RAISED = "raised"
    STATUS = "status"
    SEVERITY = "severity"
    ASSESSMENT = "assessment"
    ROLE = "role"
    HANDOFF = "handoff"
    TICK = "tick"
    NOTE = "note"
    DRAFT_SENT = "draft_sent"
    STATUS_PAGE = "status_page"

    @property
    def event_type(self) -> str:
        return EVENT_TYPES[self]


# Slack's guideline: <resource>_<action in the past tense>, lower case, digits, underscores
EVENT_TYPES: Final[dict[TeamKind, str]] = {
    TeamKind.RAISED: "cockpit_incident_raised",
    TeamKind.STATUS: "cockpit_status_changed",
    TeamKind.SEVERITY: "cockpit_severity_set",
    TeamKind.ASSESSMENT: "cockpit_assessment_answered",
    TeamKind.ROLE: "cockpit_role_assigned",
    TeamKind.HANDOFF: "cockpit_role_handed_over",
    TeamKind.TICK: "cockpit_item_ticked",
    TeamKind.NOTE: "cockpit_note_added",
    TeamKind.DRAFT_SENT: "cockpit_draft_sent",
    TeamKind.STATUS_PAGE: "cockpit_status_page_updated",
}
KIND_OF_TYPE: Final = {t: k for k, t in EVENT_TYPES.items()}

_TICKET = re.compile(r"[A-Z][A-Z0-9_]{0,19}-[1-9][0-9]{0,9}")
_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,20}")
_ORIGIN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ITEM = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_TS = re.compile(r"(\d{1,12})\.(\d{6})")
_TEMPLATE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_PAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_STATUS_PAGE = ("investigating", "identified", "monitoring", "resolved")
_NOTE_KINDS = (EntryKind.NOTE.value, EntryKind.PINNED.value, EntryKind.ACTION.value)


class BadEvent(ValueError):
    """What we were about to publish does not fit the payload's schema (a bug of ours)."""


# -- the schema of `data`, per kind --------------------------------------------------------
@dataclass(frozen=True)
class _F:
    """One field of `data`: its type, whether it is needed, and how it is checked."""

    type: type
    required: bool = True
    max: int = MAX_LINE
    choices: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    url: bool = False
    multiline: bool = False


def _enum_values(kind: type[Status] | type[Severity] | type[Role]) -> tuple[str, ...]:
    return tuple(k.value for k in kind)


_YES_NO = ("yes", "no", "")
_STATUSES = _enum_values(Status)
_SEVERITIES = _enum_values(Severity)
_ROLES = _enum_values(Role)

SCHEMA: Final[dict[TeamKind, dict[str, _F]]] = {
    TeamKind.RAISED: {
        "title": _F(str),
        "reported_at": _F(str, max=40),
        "acknowledged_at": _F(str, required=False, max=40),  # (its ticket made)
        "raised_at": _F(str, required=False, max=40),  # (when it was raised: its tick)
        "thread": _F(str, required=False, max=MAX_URL, url=True),
        "ticket_url": _F(str, required=False, max=MAX_URL, url=True),
        "channel_url": _F(str, required=False, max=MAX_URL, url=True),
        "channel_name": _F(str, required=False, max=MAX_NAME),
        "status": _F(str, required=False, choices=_STATUSES),
        "severity": _F(str, required=False, choices=(*_SEVERITIES, "")),
        "commander": _F(str, required=False, max=MAX_NAME),
        "comms": _F(str, required=False, max=MAX_NAME),
    },
    TeamKind.STATUS: {
        "to": _F(str, choices=_STATUSES),
        "from": _F(str, required=False, choices=(*_STATUSES, "")),
        "reason": _F(str, required=False),
    },
    TeamKind.SEVERITY: {
        "to": _F(str, choices=_SEVERITIES),
        "from": _F(str, required=False, choices=(*_SEVERITIES, "")),
    },
    TeamKind.ASSESSMENT: {
        "affected": _F(str, required=False),
        "reproduced": _F(str, required=False, choices=_YES_NO),
        "known": _F(str, required=False, choices=_YES_NO),
    },
    TeamKind.ROLE: {
        "role": _F(str, choices=_ROLES),
        "person": _F(str, max=MAX_NAME),
        "previous": _F(str, required=False, max=MAX_NAME),
    },
    TeamKind.HANDOFF: {
        "role": _F(str, choices=_ROLES),
        "person": _F(str, max=MAX_NAME),
        "previous": _F(str, required=False, max=MAX_NAME),
    },
    TeamKind.TICK: {
        "item": _F(str, max=64, pattern=_ITEM),
        "ticked": _F(bool),
        "text": _F(str, required=False),
    },
    TeamKind.NOTE: {
        "text": _F(str, max=MAX_TEXT, multiline=True),
        "entry": _F(str, required=False, choices=(*_NOTE_KINDS, "")),
        "link": _F(str, required=False, max=MAX_URL, url=True),
    },
    TeamKind.DRAFT_SENT: {
        "title": _F(str),
        "target": _F(str, required=False),
        "link": _F(str, required=False, max=MAX_URL, url=True),
        "template": _F(str, required=False, max=64, pattern=_TEMPLATE),
        "text": _F(str, required=False, max=MAX_TEXT, multiline=True),  # what was sent
        "hand": _F(str, required=False, choices=("yes", "")),  # posted by hand, not by cockpit
    },
    TeamKind.STATUS_PAGE: {
        "status": _F(str, choices=_STATUS_PAGE),
        "link": _F(str, required=False, max=MAX_URL, url=True),
        # the status-page incident's id: the other cockpits update it, never open another
        "page_id": _F(str, required=False, max=64, pattern=_PAGE_ID),
        "components": _F(str, required=False),  # the affected components' names, ", "
        "opened": _F(str, required=False, choices=_YES_NO),  # the page's incident opened
        "template": _F(str, required=False, max=64, pattern=_TEMPLATE),
        "title": _F(str, required=False),
        "text": _F(str, required=False, max=MAX_TEXT, multiline=True),
    },
}

Scalar = str | int | bool


def _clean_data(kind: TeamKind, data: Mapping[str, object]) -> dict[str, Scalar] | None:
    """`data` checked against its kind's schema and sanitized; None if it does not fit.
    Fields the schema does not name are dropped (a newer cockpit may add some)."""
    out: dict[str, Scalar] = {}
    for name, spec in SCHEMA[kind].items():
        value = data.get(name)
        if value is None:
            if spec.required:
                return None
            continue
        if spec.type is bool:
            if not isinstance(value, bool):
                return None
            out[name] = value
            continue
        if not isinstance(value, str) or len(value) > spec.max:
            return None
        text = sanitize(value, single_line=not spec.multiline).strip()
        if spec.required and not text:
            return None
        if spec.choices and text not in spec.choices:
            return None
        if spec.pattern is not None and text and not spec.pattern.fullmatch(text):
            return None
        if spec.url and text and (not text.startswith(("https://", "http://")) or " " in text):
            return None
        out[name] = text
    if kind is TeamKind.RAISED and _time(out.get("reported_at")) is None:
        return None
    return out


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        at = from_iso(value)
    except ValueError:
        return None
    if at is None or not (2000 <= at.year <= 2200):
        return None
    return at


# -- the incident's team-wide identity ----------------------------------------------------
_CHANNEL_IN_URL = re.compile(r"/archives/([CG][A-Z0-9]{2,20})(?:$|[/?#])")


@dataclass(frozen=True)
class TeamKey:
    """How every cockpit names one incident: its ticket key and/or its channel's id."""

    ticket: str = ""
    channel: str = ""

    @classmethod
    def of(cls, incident: Incident) -> TeamKey:
        ticket = incident.links.ticket.label if incident.links.ticket is not None else ""
        channel = ""
        if incident.links.channel is not None:
            m = _CHANNEL_IN_URL.search(incident.links.channel.url)
            channel = m.group(1) if m else ""
        return cls(ticket if _TICKET.fullmatch(ticket) else "", channel)

    @property
    def known(self) -> bool:
        return bool(self.ticket or self.channel)

    def matches(self, other: TeamKey) -> bool:
        """Both name the same incident: a ticket or a channel in common (none differing)."""
        if self.ticket and other.ticket and self.ticket != other.ticket:
            return False
        if self.channel and other.channel and self.channel != other.channel:
            return False
        return bool(
            (self.ticket and self.ticket == other.ticket)
            or (self.channel and self.channel == other.channel)
        )

    def describe(self) -> str:
        return self.ticket or (f"<#{self.channel}>" if self.channel else "the incident")


# -- the event -----------------------------------------------------------------------------
@dataclass(frozen=True)
class TeamEvent:
    id: str  # a UUID: the same event is applied once, however often it is read
    kind: TeamKind
    key: TeamKey
    data: Mapping[str, Scalar]
    at: datetime  # when it happened
    by: str  # who did it (a person's name)
    origin: str  # the cockpit that made it (its data dir's id)

    @classmethod
    def new(
        cls,
        kind: TeamKind,
        key: TeamKey,
        data: Mapping[str, object],
        *,
        at: datetime,
        by: str,
        origin: str,
        event_id: str | None = None,
    ) -> TeamEvent:
        """A new event of ours, checked against the schema (BadEvent if it does not fit:
        what we send is what every other cockpit accepts)."""
        clean = _clean_data(kind, data)
        if clean is None:
            raise BadEvent(f"a {kind.value} event cannot carry {dict(data)!r}")
        if not key.known:
            raise BadEvent("a team event needs the incident's ticket or channel")
        if not _ORIGIN.fullmatch(origin):
            raise BadEvent(f"{origin!r} is not a cockpit id")
        ev = cls(
            id=event_id or str(uuid.uuid4()),
            kind=kind,
            key=key,
            data=clean,
            at=utc(at),
            by=sanitize(by, single_line=True).strip()[:MAX_NAME],
            origin=origin,
        )
        if len(json.dumps(ev.metadata())) > MAX_METADATA_BYTES // 2:
            raise BadEvent(f"a {kind.value} event is too large for Slack's metadata")
        return ev

    # -- what a field it sets is called (events that only add to the timeline: "") ----------
    @property
    def field(self) -> str:
        if self.kind in (TeamKind.STATUS, TeamKind.SEVERITY, TeamKind.ASSESSMENT):
            return self.kind.value
        if self.kind in (TeamKind.ROLE, TeamKind.HANDOFF):
            return f"role:{self.data['role']}"
        if self.kind is TeamKind.TICK:
            return f"tick:{self.data['item']}"
        return ""

    def payload(self) -> dict[str, Any]:
        return {
            "v": PAYLOAD_VERSION,
            "id": self.id,
            "ticket": self.key.ticket,
            "channel": self.key.channel,
            "at": to_iso(self.at),
            "by": self.by,
            "origin": self.origin,
            "data": dict(self.data),
        }

    def metadata(self) -> dict[str, Any]:
        """Slack message metadata: `event_type` and `event_payload`."""
        return {"event_type": self.kind.event_type, "event_payload": self.payload()}

    # -- words -------------------------------------------------------------------------------
    def describe(self) -> str:
        """What happened, in plain words (for the timeline: never parsed as markup)."""
        d = self.data
        if self.kind is TeamKind.RAISED:
            return f"incident raised: {d['title']}"
        if self.kind is TeamKind.STATUS:
            was = str(d.get("from") or "")
            text = f"{was.upper()} → {str(d['to']).upper()}" if was else str(d["to"]).upper()
            return f"{text}: {d['reason']}" if d.get("reason") else text
        if self.kind is TeamKind.SEVERITY:
            to = Severity(str(d["to"]))
            if "from" not in d:  # (an older cockpit's event: where it came from is unknown)
                return f"severity set to {to.label}"
            was = str(d["from"])
            # the words of the entry the sending cockpit made for it: both timelines equal
            return severity_text(Severity(was) if was else None, to)
        if self.kind is TeamKind.ASSESSMENT:
            return self.assessment().describe()
        if self.kind in (TeamKind.ROLE, TeamKind.HANDOFF):
            role = Role(str(d["role"])).label
            prev = str(d.get("previous") or "")
            verb = "handed over" if self.kind is TeamKind.HANDOFF else ""
            text = f"{role}: {prev} → {d['person']}" if prev else f"{role}: {d['person']}"
            return f"{text} ({verb})" if verb else text
        if self.kind is TeamKind.TICK:
            what = str(d.get("text") or d["item"])
            return f"{'ticked' if d['ticked'] else 'unticked'}: {what}"
        if self.kind is TeamKind.NOTE:
            return str(d["text"])
        if self.kind is TeamKind.DRAFT_SENT:
            target = f" to {d['target']}" if d.get("target") else ""
            how = "posted by hand" if d.get("hand") == "yes" else "sent"
            return f"{d['title']} — {how}{target}"
        # the words of the sending cockpit's entry (status_page_text)
        return status_page_text(
            str(d["status"]), _names(str(d.get("components") or "")), opened=_opened(self)
        )

    def text(self) -> str:
        """The message people read in the channel (Slack mrkdwn, every text escaped)."""
        who = slack_escape(self.by) or "someone"
        what = slack_escape(self.describe())
        head = {
            TeamKind.RAISED: ":rotating_light:",
            TeamKind.STATUS: ":large_blue_diamond:",
            TeamKind.SEVERITY: ":small_red_triangle:",
            TeamKind.ASSESSMENT: ":question:",
            TeamKind.ROLE: ":bust_in_silhouette:",
            TeamKind.HANDOFF: ":arrows_counterclockwise:",
            TeamKind.TICK: ":ballot_box_with_check:",
            TeamKind.NOTE: ":memo:",
            TeamKind.DRAFT_SENT: ":outbox_tray:",
            TeamKind.STATUS_PAGE: ":satellite:",
        }[self.kind]
        label = {
            TeamKind.RAISED: "Raised",
            TeamKind.STATUS: "Status",
            TeamKind.SEVERITY: "Severity",
            TeamKind.ASSESSMENT: "Assessment",
            TeamKind.ROLE: "Role",
            TeamKind.HANDOFF: "Hand-off",
            TeamKind.TICK: "Checklist",
            TeamKind.NOTE: "Timeline",
            TeamKind.DRAFT_SENT: "Sent",
            TeamKind.STATUS_PAGE: "Status page",
        }[self.kind]
        return f"{head} *{label}* ({who}): {what}"

    def assessment(self) -> Assessment:
        d = self.data

        def yes_no(v: object) -> bool | None:
            return True if v == "yes" else False if v == "no" else None

        return Assessment(
            affected=str(d.get("affected") or ""),
            reproduced=yes_no(d.get("reproduced")),
            known=yes_no(d.get("known")),
        )

    # -- the ledger's copy -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return self.metadata()


def yes_no(value: bool | None) -> str:
    return "" if value is None else "yes" if value else "no"


def decode_metadata(meta: object) -> TeamEvent | None:
    """A team event from a message's metadata, or None: not ours, not a kind this cockpit
    knows, a newer payload version, or anything malformed or too large (never raises)."""
    try:
        return _decode(meta)
    except (TypeError, ValueError, KeyError, RecursionError):
        return None


def _decode(meta: object) -> TeamEvent | None:
    if not isinstance(meta, Mapping):
        return None
    event_type = meta.get("event_type")
    kind = KIND_OF_TYPE.get(event_type) if isinstance(event_type, str) else None
    payload = meta.get("event_payload")
    if kind is None or not isinstance(payload, Mapping):
        return None
    if len(json.dumps(payload, default=str)) > MAX_METADATA_BYTES:
        return None
    if payload.get("v") != PAYLOAD_VERSION:  # (True == 1: a bool is refused below)
        return None
    if isinstance(payload.get("v"), bool):
        return None
    raw_id = payload.get("id")
    if not isinstance(raw_id, str) or len(raw_id) > 36:
        return None
    event_id = str(uuid.UUID(raw_id))
    if event_id != raw_id:  # (the canonical form only: one event, one id)
        return None
    ticket, channel = payload.get("ticket", ""), payload.get("channel", "")
    if not isinstance(ticket, str) or (ticket and not _TICKET.fullmatch(ticket)):
        return None
    if not isinstance(channel, str) or (channel and not _CHANNEL.fullmatch(channel)):
        return None
    key = TeamKey(ticket, channel)
    at = _time(payload.get("at"))
    by, origin, data = payload.get("by", ""), payload.get("origin"), payload.get("data")
    if not key.known or at is None or not isinstance(by, str) or len(by) > MAX_NAME:
        return None
    if not isinstance(origin, str) or not _ORIGIN.fullmatch(origin):
        return None
    if not isinstance(data, Mapping) or any(not isinstance(k, str) for k in data):
        return None
    clean = _clean_data(kind, data)
    if clean is None:
        return None
    return TeamEvent(
        id=event_id,
        kind=kind,
        key=key,
        data=clean,
        at=at,
        by=sanitize(by, single_line=True).strip(),
        origin=origin,
    )


# -- a message read from the channel --------------------------------------------------------
def ts_order(ts: str) -> tuple[int, int] | None:
    """Slack's order of a message ts ("1700000000.000100"), or None if it is not one."""
    m = _TS.fullmatch(ts) if isinstance(ts, str) else None
    return None if m is None else (int(m.group(1)), int(m.group(2)))


@dataclass(frozen=True)
class Received:
    """A team event as read from Slack: with the message's ts (the remote order) and the
    channel it was posted in."""

    event: TeamEvent
    ts: str
    channel: str = ""
    seq: int = 0  # its place among the events of its message

    @property
    def posted_at(self) -> datetime:
        order = ts_order(self.ts)
        assert order is not None
        return datetime.fromtimestamp(order[0], UTC).replace(microsecond=order[1])


def decode_message(msg: object, channel: str = "") -> Received | None:
    """The (first) team event a raw Slack message carries, or None (`decode_events`)."""
    found = decode_events(msg, channel)
    return found[0] if found else None


def decode_events(msg: object, channel: str = "") -> list[Received]:
    """The team events a raw Slack message carries (with `include_all_metadata`): one, or
    a batch's in their order. An edited or deleted message is not an event: only the
    original post counts. A batch's malformed events are left out, the others kept."""
    if not isinstance(msg, Mapping):
        return []
    ts = msg.get("ts")
    if not isinstance(ts, str) or ts_order(ts) is None or msg.get("subtype") not in (None, ""):
        return []
    meta = msg.get("metadata")
    metas: list[object] = [meta]
    if isinstance(meta, Mapping) and meta.get("event_type") == BATCH_TYPE:
        metas = _batch(meta.get("event_payload"))
    out: list[Received] = []
    for meta in metas:
        event = decode_metadata(meta)
        if event is None:
            continue
        if channel and event.key.channel and event.key.channel != channel:
            continue  # an event about another incident's channel, copied here: ignored
        out.append(Received(event, ts, channel, seq=len(out)))
    return out


def _batch(payload: object) -> list[object]:
    try:
        if not isinstance(payload, Mapping) or isinstance(payload.get("v"), bool):
            return []
        if payload.get("v") != PAYLOAD_VERSION:
            return []
        events = payload.get("events")
        if not isinstance(events, list) or len(events) > MAX_BATCH:
            return []
        if len(json.dumps(payload, default=str)) > MAX_METADATA_BYTES:
            return []
        return list(events)
    except (TypeError, ValueError, RecursionError):
        return []


def batch_metadata(events: Iterable[TeamEvent]) -> dict[str, Any]:
    """Slack message metadata for the events of one message: a single event's own, or a
    batch of several (in the order they happened)."""
    events = list(events)
    if len(events) == 1:
        return events[0].metadata()
    return {
        "event_type": BATCH_TYPE,
        "event_payload": {"v": PAYLOAD_VERSION, "events": [e.metadata() for e in events]},
    }


def batch_text(events: Iterable[TeamEvent]) -> str:
    """The message people read for the events of one message: a line each."""
    return "\n".join(e.text() for e in events)


def events_of_metadata(meta: object) -> list[TeamEvent]:
    """The events of metadata we made (`batch_metadata`), in order."""
    metas: list[object] = [meta]
    if isinstance(meta, Mapping) and meta.get("event_type") == BATCH_TYPE:
        metas = _batch(meta.get("event_payload"))
    return [e for m in metas if (e := decode_metadata(m)) is not None]


def fits_one_message(events: list[TeamEvent]) -> bool:
    """Whether these events fit one message's metadata (count and size, with room for the
    outbox's marker)."""
    if len(events) > MAX_BATCH:
        return False
    return len(json.dumps(batch_metadata(events))) <= MAX_METADATA_BYTES - 200


# -- the ledger: what this cockpit knows of the team's events on one incident -------------
class Seen(StrEnum):
    APPLIED = "applied"  # its change is the incident's (or it only added to the timeline)
    SUPERSEDED = "superseded"  # a later change of the same field holds
    CONFLICT = "conflict"  # it won, but is not a legal move from what is held here
    SETTLED = "settled"  # a conflict the person settled
    OWN = "own"  # ours: applied when it was made


PENDING: Final = (1 << 62, 0)  # the order of one of our changes not posted yet


@dataclass
class Known:
    """One event in an incident's ledger (a document of the LEDGER_TABLE)."""

    event: TeamEvent
    ts: str = ""  # its message's ts ("" for ours until it is posted)
    state: Seen = Seen.APPLIED
    marker: str = ""  # ours: the outbox item that posts it
    conflict: str = ""  # what the conflict is, in plain words
    seq: int = 0  # its place among the events of its message

    @property
    def own(self) -> bool:
        return self.state is Seen.OWN or bool(self.marker)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.event.id,
            "v": LEDGER_VERSION,
            "event": self.event.to_dict(),
            "ts": self.ts,
            "state": self.state.value,
            "marker": self.marker,
            "conflict": self.conflict,
            "seq": self.seq,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Known | None:
        event = decode_metadata(d.get("event"))
        if event is None:
            return None
        try:
            state = Seen(d.get("state", "applied"))
        except ValueError:
            return None
        ts = d.get("ts", "")
        seq = d.get("seq", 0)
        return cls(
            event=event,
            ts=ts if isinstance(ts, str) and ts_order(ts) is not None else "",
            state=state,
            marker=str(d.get("marker") or ""),
            conflict=sanitize(d.get("conflict", ""), single_line=True),
            seq=seq if type(seq) is int and 0 <= seq < MAX_BATCH else 0,
        )


@dataclass
class Outcome:
    """What receiving events changed: to write in the same change."""

    entries: list[TimelineEntry] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    known: list[Known] = field(default_factory=list)  # ledger documents to put
    conflicts: list[str] = field(default_factory=list)
    applied: int = 0  # events applied (new ones and their changes)
    changed: bool = False  # the incident document changed
    drafts: list[Draft] = field(default_factory=list)  # what a teammate sent, as sent

    def merge(self, other: Outcome) -> None:
        self.entries += other.entries
        self.drafts += other.drafts
        self.ticks += other.ticks
        self.known += other.known
        self.conflicts += other.conflicts
        self.applied += other.applied
        self.changed = self.changed or other.changed


# the order of one of our events not seen on Slack yet: PENDING while its outbox item is
# going, its message's ts once sent, None when its post failed or was given up (it then
# counts not at all)
OwnOrder = Callable[[Known], tuple[int, int] | None]


def entry_id(event_id: str) -> str:
    """The timeline entry an event makes (the same id each time: never a duplicate)."""
    return f"team-{event_id}"


_ENTRY_KIND = {
    TeamKind.RAISED: EntryKind.ACTION,
    TeamKind.STATUS: EntryKind.STATUS,
    TeamKind.SEVERITY: EntryKind.SEVERITY,
    TeamKind.ASSESSMENT: EntryKind.ASSESSMENT,
    TeamKind.ROLE: EntryKind.ROLE,
    TeamKind.HANDOFF: EntryKind.ROLE,  # (a role's; HANDOFF entries are a shift's)
    TeamKind.TICK: EntryKind.CHECK,
    TeamKind.NOTE: EntryKind.NOTE,
    TeamKind.DRAFT_SENT: EntryKind.SENT,
    TeamKind.STATUS_PAGE: EntryKind.SENT,  # (an update; the page's incident opened: ACTION)
}


class TeamLedger:
    """An incident's known events, and how a received one is applied (module doc)."""

    def __init__(
        self,
        known: Iterable[Known],
        *,
        me: str,
        own_order: OwnOrder | None = None,
    ) -> None:
        self.known: dict[str, Known] = {k.event.id: k for k in known}
        self.me = me
        # ours, not seen on Slack yet: the outbox says whether it is still going (PENDING),
        # went (its ts) or failed (Lost)
        self._own_order = own_order or (lambda _k: PENDING)

    @classmethod
    def from_docs(
        cls, docs: Iterable[Mapping[str, Any]], *, me: str, own_order: OwnOrder | None = None
    ) -> TeamLedger:
        known = (Known.from_dict(d) for d in docs)
        return cls([k for k in known if k is not None], me=me, own_order=own_order)

    def conflicts(self) -> list[Known]:
        return [k for k in self.known.values() if k.state is Seen.CONFLICT]

    def order(self, k: Known) -> tuple[int, int, int, str] | None:
        """Slack's order: the message's ts, then the event's place in its message."""
        if k.ts:
            o = ts_order(k.ts)
            return None if o is None else (*o, k.seq, k.event.id)
        if k.own:
            o = self._own_order(k)
            return None if o is None else (*o, k.seq, k.event.id)
        return None

    def winner(self, field_name: str) -> Known | None:
        best: tuple[tuple[int, int, int, str], Known] | None = None
        for k in self.known.values():
            if k.event.field != field_name:
                continue
            o = self.order(k)
            if o is not None and (best is None or o > best[0]):
                best = (o, k)
        return None if best is None else best[1]

    # -- ours --------------------------------------------------------------------------------
    def record_own(self, event: TeamEvent, marker: str) -> Known:
        """One of our changes, already made locally, going out through outbox `marker`."""
        k = Known(event, state=Seen.OWN, marker=marker)
        self.known[event.id] = k
        return k

    # -- theirs (and ours, read back) ------------------------------------------------------
    def receive(
        self,
        incident: Incident,
        received: Received,
        *,
        ticks: Mapping[str, Tick],
        now: datetime,
    ) -> Outcome:
        """Apply one event read from the channel to `incident` (changed in place)."""
        out = Outcome()
        ev = received.event
        if not TeamKey.of(incident).matches(ev.key) and TeamKey.of(incident).known:
            return out  # another incident's event
        held = self.known.get(ev.id)
        if held is not None:
            if held.own and not held.ts:
                held.ts = received.ts  # ours, now in Slack's order
                held.seq = received.seq
                out.known.append(held)
                if ev.field:
                    out.merge(self._resolve(incident, ev.field, ticks, now))
            return out  # seen before: nothing to do again
        k = Known(ev, ts=received.ts, seq=received.seq)
        self.known[ev.id] = k
        out.known.append(k)
        out.applied += 1
        at = self._when(incident, received, now)
        if ev.field:
            winner = self.winner(ev.field)
            if winner is not k:
                k.state = Seen.SUPERSEDED
            else:
                self._supersede_others(k, out)
                out.merge(self._apply_value(incident, k, at, ticks))
        else:
            out.changed = self._apply_once(incident, ev, at) or out.changed
            sent = sent_draft(incident, ev, at)
            if sent is not None:
                out.drafts.append(sent)
        text = ev.describe()
        if k.state is Seen.CONFLICT:
            text += f" — not applied here: {k.conflict}"
        if ev.kind is not TeamKind.TICK:  # (ticks record who and when themselves)
            out.entries.append(
                TimelineEntry(
                    id=entry_id(ev.id),
                    incident_id=incident.id,
                    kind=_note_kind(ev),
                    text=sanitize(text),
                    event_at=at,
                    recorded_at=utc(now),
                    author=ev.by,
                    link=str(ev.data.get("link") or ""),
                )
            )
        return out

    def _when(self, incident: Incident, received: Received, now: datetime) -> datetime:
        """The event's own time, kept within the report and the message's own time."""
        latest = min(received.posted_at, utc(now)) + CLOCK_SKEW
        return max(min(received.event.at, latest), incident.first_reported_at)

    def _resolve(
        self, incident: Incident, field_name: str, ticks: Mapping[str, Tick], now: datetime
    ) -> Outcome:
        """After one of ours took its place in Slack's order: the field's winner may be
        an event of theirs that had waited behind ours."""
        winner = self.winner(field_name)
        out = Outcome()
        if winner is None or winner.own or winner.state is not Seen.SUPERSEDED:
            return out
        at = max(min(winner.event.at, utc(now)), incident.first_reported_at)
        self._supersede_others(winner, out)
        out.merge(self._apply_value(incident, winner, at, ticks))
        out.known.append(winner)
        if out.conflicts:
            out.entries.append(
                TimelineEntry(
                    id=entry_id(winner.event.id),
                    incident_id=incident.id,
                    kind=_note_kind(winner.event),
                    text=sanitize(
                        f"{winner.event.describe()} — not applied here: {winner.conflict}"
                    ),
                    event_at=at,
                    recorded_at=utc(now),
                    author=winner.event.by,
                )
            )
        return out

    def _supersede_others(self, winner: Known, out: Outcome) -> None:
        """The field's earlier winners (theirs) no longer hold: the ledger says so."""
        for k in self.known.values():
            if (
                k is not winner
                and k.event.field == winner.event.field
                and k.state in (Seen.APPLIED, Seen.CONFLICT)
            ):
                k.state = Seen.SUPERSEDED
                out.known.append(k)

    def _apply_value(
        self, incident: Incident, k: Known, at: datetime, ticks: Mapping[str, Tick]
    ) -> Outcome:
        """Make the winning event's value the incident's (or record the conflict)."""
        out = Outcome()
        ev, d = k.event, k.event.data
        k.state = Seen.APPLIED
        try:
            if ev.kind is TeamKind.STATUS:
                to = Status(str(d["to"]))
                if incident.status is not to:
                    if to not in TRANSITIONS[incident.status]:
                        raise IllegalTransition(
                            f"{ev.by or 'another cockpit'} moved it to {to.label}, "
                            f"but it is {incident.status.label} here"
                        )
                    reason = str(d.get("reason") or "") or f"canceled by {ev.by or 'a teammate'}"
                    incident.transition(to, at=at, by=ev.by, reason=reason)
                    out.changed = True
            elif ev.kind is TeamKind.SEVERITY:
                sev = Severity(str(d["to"]))
                if incident.severity is not sev:
                    incident.set_severity(sev, at=at, by=ev.by)
                    out.changed = True
            elif ev.kind is TeamKind.ASSESSMENT:
                if incident.assessment != ev.assessment():
                    incident.record_assessment(ev.assessment(), at=at, by=ev.by)
                    out.changed = True
            elif ev.kind in (TeamKind.ROLE, TeamKind.HANDOFF):
                role, person = Role(str(d["role"])), str(d["person"])
                if incident.roles.get(role) != person:
                    incident.assign(role, person, at=at, by=ev.by)
                    out.changed = True
            elif ev.kind is TeamKind.TICK:
                item, ticked = str(d["item"]), bool(d["ticked"])
                latest = ticks.get(item)
                if (latest is not None and latest.ticked) != ticked:
                    when = at if latest is None else max(at, latest.at)
                    out.ticks.append(Tick(item_id=item, ticked=ticked, by=ev.by, at=when))
        except IllegalTransition as e:
            k.state = Seen.CONFLICT
            k.conflict = str(e)
            out.conflicts.append(str(e))
        return out

    def _apply_once(self, incident: Incident, ev: TeamEvent, at: datetime) -> bool:
        """Events that set no field: what they leave on the incident besides the entry."""
        d = ev.data
        if ev.kind is TeamKind.RAISED:
            return fill_links(incident, ev)
        if ev.kind in (TeamKind.DRAFT_SENT, TeamKind.STATUS_PAGE):
            changed = newest = incident.update_sent(at)
            if ev.kind is not TeamKind.STATUS_PAGE:
                return changed
            # the page's incident, by its id (the updates address it): this cockpit's
            # next update goes to it, never opens a second one
            link, page_id = str(d.get("link") or ""), str(d.get("page_id") or "")
            if link and page_id and incident.links.status_page is None:
                incident.links.status_page = Link(link, page_id)
                changed = True
            names = _names(str(d.get("components") or ""))
            if names and newest and names != incident.affected_components:
                incident.affected_components = names
                changed = True
            return changed
        return False

    # -- settling a conflict --------------------------------------------------------------
    def settle(self, event_id: str) -> Known:
        """The person settled a conflict (they keep what they hold, or change it in a
        change of their own, which every cockpit then applies as the newest)."""
        k = self.known.get(event_id)
        if k is None or k.state is not Seen.CONFLICT:
            raise IllegalTransition("no such conflict to settle")
        k.state = Seen.SETTLED
        return k


def sent_draft(incident: Incident, ev: TeamEvent, at: datetime) -> Draft | None:
    """What a teammate sent (a message, a status-page update), as a sent draft of this
    cockpit's: the drafts pane shows it, by whom, with what it said. The same id each
    time (never twice); None for events that sent nothing or did not say what."""
    if ev.kind not in (TeamKind.DRAFT_SENT, TeamKind.STATUS_PAGE) or not ev.data.get("text"):
        return None
    d = ev.data
    public = ev.kind is TeamKind.STATUS_PAGE
    title = str(d.get("title") or "") or (f"Status page: {d['status']}" if public else "Update")
    target = str(d.get("target") or ("the status page" if public else "Slack"))
    by = ev.by or "a teammate"
    return Draft(
        id=f"team-{ev.id}",
        incident_id=incident.id,
        template=str(d.get("template") or ""),
        kind="statuspage" if public else "slack",
        title=title,
        body=str(d["text"]),
        target=sanitize(
            f"{target} ({'posted by hand by' if d.get('hand') == 'yes' else 'sent by'} {by})",
            single_line=True,
        ),
        state=DraftState.SENT,
        created_at=at,
        updated_at=at,
        sent_at=at,
        remote_link=str(d.get("link") or ""),
    )


def _note_kind(ev: TeamEvent) -> EntryKind:
    if ev.kind is TeamKind.NOTE:
        try:
            return EntryKind(str(ev.data.get("entry") or "note"))
        except ValueError:
            return EntryKind.NOTE
    if ev.kind is TeamKind.STATUS_PAGE and _opened(ev):
        return EntryKind.ACTION  # (as the sender's own entry for it is)
    return _ENTRY_KIND[ev.kind]


def _opened(ev: TeamEvent) -> bool:
    return ev.data.get("opened") == "yes"


def _names(components: str) -> list[str]:
    """The components' names a status-page event lists (", " between them)."""
    return [n.strip() for n in components.split(",") if n.strip()]


def fill_links(incident: Incident, ev: TeamEvent) -> bool:
    """A raised event's ticket, channel and thread on an incident that lacks them."""
    d, changed = ev.data, False
    if ev.key.ticket and d.get("ticket_url") and incident.links.ticket is None:
        incident.links.ticket = Link(str(d["ticket_url"]), ev.key.ticket)
        changed = True
    if d.get("channel_url") and incident.links.channel is None:
        name = str(d.get("channel_name") or "")
        incident.links.channel = Link(str(d["channel_url"]), f"#{name}" if name else "")
        changed = True
    if d.get("thread") and incident.links.thread is None:
        incident.links.thread = Link(str(d["thread"]), "report thread")
        changed = True
    return changed


# -- raising and joining -----------------------------------------------------------------------
def raised_event(
    incident: Incident, *, origin: str, at: datetime, by: str, event_id: str | None = None
) -> TeamEvent:
    """The incident as its raiser's cockpit holds it once its ticket and channel exist:
    what another cockpit needs to join it."""
    data: dict[str, object] = {
        "title": incident.title[:MAX_LINE],
        "reported_at": to_iso(incident.first_reported_at),
        "status": incident.status.value,
        "severity": incident.severity.value if incident.severity else "",
        "commander": incident.commander[:MAX_NAME],
        "comms": incident.comms[:MAX_NAME],
    }
    if incident.acknowledged_at is not None:
        data["acknowledged_at"] = to_iso(incident.acknowledged_at)
    data["raised_at"] = to_iso(incident.created_at)
    for name, link in (
        ("thread", incident.links.thread),
        ("ticket_url", incident.links.ticket),
        ("channel_url", incident.links.channel),
    ):
        if link is not None and link.url.startswith(("https://", "http://")):
            data[name] = link.url[:MAX_URL]
    if incident.links.channel is not None:
        data["channel_name"] = incident.links.channel.label.lstrip("#")[:MAX_NAME]
    return TeamEvent.new(
        TeamKind.RAISED,
        TeamKey.of(incident),
        data,
        at=at,
        by=by,
        origin=origin,
        event_id=event_id,
    )


def raised_at(received: Received, *, now: datetime) -> datetime:
    """When the raiser's cockpit raised the incident (its "raise" tick), as its raised
    event says, held between the report and the reply's post (as far as two clocks agree)."""
    d = received.event.data
    reported = min(_time(d.get("reported_at")) or received.event.at, received.posted_at, utc(now))
    at = _time(d.get("raised_at")) or received.event.at
    return max(reported, min(at, received.posted_at + CLOCK_SKEW, utc(now)))


def joined_incident(
    received: Received, *, incident_id: str, now: datetime, drill: bool = False
) -> tuple[Incident, list[TimelineEntry]]:
    """A new local incident made from another cockpit's `raised` event: its title, report
    time, links, status, severity and roles as that cockpit held them; the entries say
    who raised it and that this cockpit joined."""
    ev = received.event
    if ev.kind is not TeamKind.RAISED:
        raise ValueError("only a raised event makes an incident")
    d = ev.data
    reported = _time(d.get("reported_at")) or ev.at
    reported = min(reported, received.posted_at, utc(now))
    incident = Incident(
        id=incident_id,
        title=str(d["title"]),
        first_reported_at=reported,
        created_at=utc(now),
        created_by=ev.by,
        drill=drill,
    )
    fill_links(incident, ev)
    status = Status(str(d.get("status") or "reported"))
    # the status it had: its times are those of the raise (later events bring the rest)
    at = max(min(ev.at, received.posted_at), reported)
    path = {
        Status.REPORTED: [],
        Status.FIXING: [Status.FIXING],
        Status.MONITORING: [Status.FIXING, Status.MONITORING],
        Status.RESOLVED: [Status.FIXING, Status.RESOLVED],
        Status.CANCELED: [Status.CANCELED],
    }[status]
    for step in path:
        incident.transition(step, at=at, by=ev.by, reason="canceled before this cockpit joined")
    if d.get("severity"):
        incident.severity = Severity(str(d["severity"]))
    for role, name in ((Role.COMMANDER, d.get("commander")), (Role.COMMS, d.get("comms"))):
        if name:
            incident.roles[role] = str(name)
    if incident.links.ticket is not None:
        # when the raiser's ticket was made (its SLO stopped then: after the raise, before
        # the reply that says it was posted, as far as two clocks agree)
        acked = _time(d.get("acknowledged_at"))
        latest = min(received.posted_at + CLOCK_SKEW, utc(now))
        incident.acknowledged_at = at if acked is None else max(reported, min(acked, latest))
    entries = [
        TimelineEntry(
            id=entry_id(ev.id),
            incident_id=incident_id,
            kind=EntryKind.NOTE,
            text=sanitize(f"reported: {incident.title}"),
            event_at=reported,
            recorded_at=utc(now),
            author=ev.by,
            link=incident.links.thread.url if incident.links.thread else "",
        ),
        TimelineEntry(
            id=f"team-joined-{ev.id}",
            incident_id=incident_id,
            kind=EntryKind.ACTION,
            text=sanitize(f"joined {ev.key.describe()} raised by {ev.by or 'a teammate'}"),
            event_at=utc(now),
            recorded_at=utc(now),
            author="",
        ),
    ]
    return incident, entries
