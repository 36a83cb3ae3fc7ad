"""Timeline entries, and the times people type for them ("-12m", "14:03", ISO)."""

from __future__ import annotations

import itertools
import os
import re
import time
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

import msgspec
from msgspec.structs import replace

from cockpit.domain.clock import from_iso, to_iso, utc
from cockpit.domain.errors import TimeRefused
from cockpit.domain.sanitize import sanitize

SCHEMA_VERSION = 1


class EntryKind(StrEnum):
    NOTE = "note"
    STATUS = "status"  # a status change
    SEVERITY = "severity"  # a severity change
    ROLE = "role"  # a role given or handed over
    ASSESSMENT = "assessment"  # answers to the assess questions
    PINNED = "pinned"  # a Slack message pinned at its own time
    SENT = "sent"  # a message that went out (thread reply, status page, …)
    ACTION = "action"  # a playbook action performed (ticket created, channel, …)
    CHECK = "check"  # a checklist item ticked or unticked
    HANDOFF = "handoff"  # a shift hand-off summary

    @property
    def marker(self) -> str:
        return _MARKERS[self]


_MARKERS = {
    EntryKind.NOTE: "✎",
    EntryKind.STATUS: "◆",
    EntryKind.SEVERITY: "▲",
    EntryKind.ROLE: "☺",
    EntryKind.ASSESSMENT: "?",
    EntryKind.PINNED: "⚑",
    EntryKind.SENT: "➤",
    EntryKind.ACTION: "⚙",
    EntryKind.CHECK: "✓",
    EntryKind.HANDOFF: "⇄",
}


_SEQ = itertools.count()
_NODE = os.urandom(3).hex()


def new_entry_id() -> str:
    """Ids that sort in creation order (time, then a per-process counter), unique across
    processes: entries recorded in the same instant keep the order they were made in."""
    return f"{time.time_ns():016x}{next(_SEQ) % 0x10000:04x}{_NODE}"


class TimelineEntry(msgspec.Struct, frozen=True):
    id: str
    incident_id: str
    kind: EntryKind
    text: str
    event_at: datetime  # when it happened (may be backdated)
    recorded_at: datetime  # when it was written down
    author: str = ""
    link: str = ""
    edited_at: datetime | None = None

    @classmethod
    def new(
        cls,
        incident_id: str,
        *,
        kind: EntryKind,
        text: str,
        event_at: datetime,
        recorded_at: datetime,
        author: str = "",
        link: str = "",
    ) -> TimelineEntry:
        return cls(
            id=new_entry_id(),
            incident_id=incident_id,
            kind=kind,
            text=sanitize(text),
            event_at=utc(event_at),
            recorded_at=utc(recorded_at),
            author=sanitize(author, single_line=True),
            link=sanitize(link, single_line=True),
        )

    @property
    def backdated(self) -> bool:
        return self.recorded_at - self.event_at > timedelta(seconds=59)

    def with_event_at(self, at: datetime, *, edited_at: datetime) -> TimelineEntry:
        return replace(self, event_at=utc(at), edited_at=utc(edited_at))

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": SCHEMA_VERSION,
            "id": self.id,
            "incident_id": self.incident_id,
            "kind": self.kind.value,
            "text": self.text,
            "event_at": to_iso(self.event_at),
            "recorded_at": to_iso(self.recorded_at),
            "author": self.author,
            "link": self.link,
            "edited_at": to_iso(self.edited_at),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TimelineEntry:
        ev, rec = from_iso(d["event_at"]), from_iso(d["recorded_at"])
        assert ev is not None and rec is not None
        return cls(
            id=str(d["id"]),
            incident_id=str(d["incident_id"]),
            kind=EntryKind(d["kind"]),
            text=sanitize(d.get("text", "")),
            event_at=ev,
            recorded_at=rec,
            author=sanitize(d.get("author", ""), single_line=True),
            link=sanitize(d.get("link", ""), single_line=True),
            edited_at=from_iso(d.get("edited_at")),
        )


def sort_entries(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """Entries in the order things happened (recording order breaks ties)."""
    return sorted(entries, key=lambda e: (e.event_at, e.recorded_at, e.id))


_RELATIVE = re.compile(r"^-\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s)?$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")

WHEN_HELP = "'-12m', '-1h30m', '14:03' (the latest 14:03 not in the future) or an ISO time"


def parse_when(text: str, *, now: datetime, tz: tzinfo) -> datetime:
    """Turn what a person typed into a UTC time.

    `-12m`, `-1h30m`, `-45s`: that long before now. `14:03` (or `14:03:20`): the most
    recent 14:03 in the local zone `tz` that is not in the future. An ISO time
    (`2026-11-27T14:03`, with or without an offset; without one it is local).
    """
    s = text.strip().lower()
    if not s or s == "now":
        return utc(now)
    m = _RELATIVE.match(s)
    if m and any(m.groups()):
        h, mi, se = (int(g) if g else 0 for g in m.groups())
        return utc(now) - timedelta(hours=h, minutes=mi, seconds=se)
    m = _CLOCK.match(s)
    if m:
        hh, mm, ss = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
        if hh > 23 or mm > 59 or ss > 59:
            raise TimeRefused(f"{text!r} is not a time of day")
        local_now = now.astimezone(tz)
        cand = local_now.replace(hour=hh, minute=mm, second=ss, microsecond=0)
        if cand > local_now:
            cand = (cand - timedelta(days=1)).replace(tzinfo=None).replace(tzinfo=tz)
        return utc(cand)
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TimeRefused(f"cannot read the time {text!r}: use {WHEN_HELP}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return utc(dt)


def check_event_time(at: datetime, *, reported_at: datetime, now: datetime, tz: tzinfo) -> None:
    """Refuse a time before the incident's first report or after now."""

    def show(t: datetime) -> str:
        return t.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z")

    if at < reported_at:
        raise TimeRefused(
            f"{show(at)} is before the incident was first reported ({show(reported_at)}); "
            "an entry cannot be earlier than the report"
        )
    if at > utc(now) + timedelta(seconds=1):
        raise TimeRefused(f"{show(at)} is in the future (now is {show(now)})")
