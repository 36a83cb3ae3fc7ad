"""The incident: severity, the status machine, roles, times, links and the assessment.

Every change goes through a method that checks it and returns the timeline entry that
records it, so the timeline can never disagree with the incident.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec

from cockpit.domain.clock import from_iso, to_iso, utc
from cockpit.domain.errors import IllegalTransition
from cockpit.domain.sanitize import sanitize
from cockpit.domain.timeline import EntryKind, TimelineEntry

SCHEMA_VERSION = 1


class Severity(StrEnum):
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def rank(self) -> int:
        return {"minor": 1, "major": 2, "critical": 3}[self.value]

    @classmethod
    def parse(cls, text: str) -> Severity:
        t = text.strip().lower()
        for s in cls:
            if t in (s.value, s.value[:3], s.value[0]):
                return s
        allowed = ", ".join(s.value for s in cls)
        raise ValueError(f"unknown severity {text!r}: use one of {allowed}")


def severity_text(before: Severity | None, after: Severity) -> str:
    """A severity change in words: the timeline entry's text, the same in every cockpit
    (the one that made the change and those that applied it from the team's channel)."""
    was = before.label if before else "unset"
    return f"severity {was} → {after.label}"


def status_page_text(status: str, components: Sequence[str] = (), *, opened: bool = False) -> str:
    """A status-page update in words: the timeline entry's text, the same in the cockpit
    that sent it and in those that applied it from the team's channel."""
    head = "status-page incident opened" if opened else "status page"
    where = f" ({', '.join(components)})" if components else ""
    return f"{head}: {status}{where}"


def severity_change(text: str) -> tuple[Severity | None, Severity] | None:
    """The (from, to) a `severity_text` says; None if the text is not one."""
    head, sep, to = text.removeprefix("severity ").partition(" → ")
    if not sep or not text.startswith("severity "):
        return None
    values = {s.label: s for s in Severity}
    after = values.get(to.strip())
    if after is None or (head != "unset" and head not in values):
        return None
    return (values.get(head), after)


class Status(StrEnum):
    REPORTED = "reported"
    FIXING = "fixing"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CANCELED = "canceled"

    @property
    def label(self) -> str:
        return self.value.upper()

    @property
    def is_open(self) -> bool:
        return self not in (Status.RESOLVED, Status.CANCELED)

    @classmethod
    def parse(cls, text: str) -> Status:
        t = text.strip().lower()
        if t == "cancelled":
            t = "canceled"
        for s in cls:
            if t == s.value:
                return s
        allowed = ", ".join(s.value for s in cls)
        raise ValueError(f"unknown status {text!r}: use one of {allowed}")


# The playbook's path is REPORTED → FIXING → MONITORING → RESOLVED, with CANCELED open
# from REPORTED or FIXING (the "not an incident" path). Two more are allowed because they
# happen: a fix that is confirmed at once goes FIXING → RESOLVED, and a mitigation that
# does not hold goes MONITORING → FIXING.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.REPORTED: frozenset({Status.FIXING, Status.CANCELED}),
    Status.FIXING: frozenset({Status.MONITORING, Status.RESOLVED, Status.CANCELED}),
    Status.MONITORING: frozenset({Status.RESOLVED, Status.FIXING}),
    Status.RESOLVED: frozenset(),
    Status.CANCELED: frozenset(),
}

_HINTS: dict[tuple[Status, Status], str] = {
    (Status.REPORTED, Status.MONITORING): "mark it FIXING first",
    (
        Status.REPORTED,
        Status.RESOLVED,
    ): "mark it FIXING first, or CANCELED if it is not an incident",
    (
        Status.MONITORING,
        Status.CANCELED,
    ): "an incident that was mitigated is resolved, not canceled",
}


class Role(StrEnum):
    COMMANDER = "commander"
    COMMS = "comms"

    @property
    def label(self) -> str:
        return "Incident Commander" if self is Role.COMMANDER else "Communications Officer"

    @property
    def short(self) -> str:
        return "Commander" if self is Role.COMMANDER else "Comms"

    @classmethod
    def parse(cls, text: str) -> Role:
        t = text.strip().lower()
        if t in ("commander", "ic", "incident commander", "incident-commander"):
            return cls.COMMANDER
        if t in ("comms", "communications", "co", "communications officer"):
            return cls.COMMS
        raise ValueError(f"unknown role {text!r}: use commander or comms")


class Link(msgspec.Struct, frozen=True):
    url: str
    label: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"url": self.url, "label": self.label}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Link:
        return cls(
            url=sanitize(d.get("url", ""), single_line=True),
            label=sanitize(d.get("label", ""), single_line=True),
        )


class Links(msgspec.Struct):
    thread: Link | None = None  # the originating Slack thread (#incidents / #alerts)
    channel: Link | None = None  # the incident's own channel, #incident-N
    ticket: Link | None = None  # the incident ticket (label = the issue key)
    status_page: Link | None = None  # the public status-page incident
    follow_ups: list[Link] = msgspec.field(default_factory=list)
    bugs: list[Link] = msgspec.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def one(link: Link | None) -> dict[str, str] | None:
            return None if link is None else link.to_dict()

        return {
            "thread": one(self.thread),
            "channel": one(self.channel),
            "ticket": one(self.ticket),
            "status_page": one(self.status_page),
            "follow_ups": [x.to_dict() for x in self.follow_ups],
            "bugs": [x.to_dict() for x in self.bugs],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Links:
        def one(v: Any) -> Link | None:
            return None if not v else Link.from_dict(v)

        return cls(
            thread=one(d.get("thread")),
            channel=one(d.get("channel")),
            ticket=one(d.get("ticket")),
            status_page=one(d.get("status_page")),
            follow_ups=[Link.from_dict(x) for x in d.get("follow_ups", [])],
            bugs=[Link.from_dict(x) for x in d.get("bugs", [])],
        )


class Assessment(msgspec.Struct):
    """The playbook's three assess questions."""

    affected: str = ""  # how many people (or partners) does this affect?
    reproduced: bool | None = None  # have we been able to reproduce it?
    known: bool | None = None  # False: a new problem; True: something we know of

    @property
    def answered(self) -> int:
        return sum((bool(self.affected), self.reproduced is not None, self.known is not None))

    def describe(self) -> str:
        parts = []
        if self.affected:
            parts.append(f"affected: {self.affected}")
        if self.reproduced is not None:
            parts.append("reproduced" if self.reproduced else "not reproduced")
        if self.known is not None:
            parts.append("known problem" if self.known else "new problem")
        return "; ".join(parts) or "not assessed"

    def to_dict(self) -> dict[str, Any]:
        return {"affected": self.affected, "reproduced": self.reproduced, "known": self.known}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Assessment:
        return cls(
            affected=sanitize(d.get("affected", "")),
            reproduced=d.get("reproduced"),
            known=d.get("known"),
        )


class RoleChange(msgspec.Struct, frozen=True):
    role: Role
    person: str
    at: datetime
    by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role.value,
            "person": self.person,
            "at": to_iso(self.at),
            "by": self.by,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RoleChange:
        at = from_iso(d["at"])
        assert at is not None
        return cls(
            role=Role(d["role"]),
            person=sanitize(d["person"], single_line=True),
            at=at,
            by=sanitize(d.get("by", ""), single_line=True),
        )


class Incident(msgspec.Struct):
    id: str
    title: str
    first_reported_at: datetime  # the report's own time: the SLO starts here
    created_at: datetime  # when cockpit recorded it
    created_by: str = ""
    summary: str = ""
    severity: Severity | None = None
    status: Status = Status.REPORTED
    cancel_reason: str = ""
    acknowledged_at: datetime | None = None  # tracked (ticket created): the SLO stops here
    fixing_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    canceled_at: datetime | None = None
    last_update_at: datetime | None = None  # the last stakeholder / status-page update sent
    roles: dict[Role, str] = msgspec.field(default_factory=dict)
    role_history: list[RoleChange] = msgspec.field(default_factory=list)
    links: Links = msgspec.field(default_factory=Links)
    assessment: Assessment = msgspec.field(default_factory=Assessment)
    affected_components: list[str] = msgspec.field(default_factory=list)
    labels: list[str] = msgspec.field(default_factory=list)
    drill: bool = False

    def __post_init__(self) -> None:
        self.first_reported_at = utc(self.first_reported_at)
        self.created_at = utc(self.created_at)

    # -- reading -------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def commander(self) -> str:
        return self.roles.get(Role.COMMANDER, "")

    @property
    def comms(self) -> str:
        return self.roles.get(Role.COMMS, "")

    def can_transition(self, to: Status) -> bool:
        return to in TRANSITIONS[self.status]

    # -- changing ------------------------------------------------------------------
    def _entry(
        self, kind: EntryKind, text: str, at: datetime, by: str, link: str = ""
    ) -> TimelineEntry:
        return TimelineEntry.new(
            self.id, kind=kind, text=text, event_at=at, recorded_at=at, author=by, link=link
        )

    def transition(self, to: Status, *, at: datetime, by: str, reason: str = "") -> TimelineEntry:
        """Move to `to`, stamping its time; an illegal move raises IllegalTransition."""
        at = utc(at)
        if to == self.status:
            raise IllegalTransition(f"incident {self.id} is already {to.label}")
        if to not in TRANSITIONS[self.status]:
            allowed = ", ".join(
                s.label for s in sorted(TRANSITIONS[self.status], key=list(Status).index)
            )
            hint = _HINTS.get((self.status, to))
            msg = f"incident {self.id} cannot go from {self.status.label} to {to.label}"
            if allowed:
                msg += f" (from {self.status.label}: {allowed})"
            else:
                msg += f" ({self.status.label} is final)"
            if hint:
                msg += f"; {hint}"
            raise IllegalTransition(msg)
        if to is Status.CANCELED and not reason.strip():
            raise IllegalTransition("canceling needs a reason (why is this not an incident?)")
        before = self.status
        self.status = to
        if to is Status.FIXING:
            if self.fixing_at is None:
                self.fixing_at = at
            if self.commander == "" and by:
                self.roles[Role.COMMANDER] = by
                self.role_history.append(RoleChange(Role.COMMANDER, by, at, by))
        elif to is Status.MONITORING:
            self.mitigated_at = at
        elif to is Status.RESOLVED:
            if self.mitigated_at is None:
                self.mitigated_at = at
            self.resolved_at = at
        elif to is Status.CANCELED:
            self.canceled_at = at
            self.cancel_reason = sanitize(reason.strip())
        text = f"{before.label} → {to.label}"
        if reason.strip():
            text += f": {reason.strip()}"
        return self._entry(EntryKind.STATUS, text, at, by)

    def set_severity(self, severity: Severity, *, at: datetime, by: str) -> TimelineEntry:
        before = self.severity
        if before == severity:
            raise IllegalTransition(f"incident {self.id} is already {severity.label}")
        self.severity = severity
        return self._entry(EntryKind.SEVERITY, severity_text(before, severity), utc(at), by)

    def assign(self, role: Role, person: str, *, at: datetime, by: str) -> TimelineEntry:
        person = sanitize(person, single_line=True).strip()
        if not person:
            raise ValueError("a role needs a person's name")
        before = self.roles.get(role, "")
        self.roles[role] = person
        self.role_history.append(RoleChange(role, person, utc(at), by))
        text = f"{role.label}: {before} → {person}" if before else f"{role.label}: {person}"
        return self._entry(EntryKind.ROLE, text, utc(at), by)

    def acknowledge(self, *, at: datetime, by: str, ticket: Link | None = None) -> TimelineEntry:
        """The incident is tracked (its ticket exists): the acknowledgement SLO stops."""
        if self.acknowledged_at is not None:
            raise IllegalTransition(f"incident {self.id} was already acknowledged")
        self.acknowledged_at = utc(at)
        if ticket is not None:
            self.links.ticket = ticket
        text = f"tracked as {ticket.label or ticket.url}" if ticket else "tracked in cockpit"
        return self._entry(EntryKind.ACTION, text, utc(at), by, link=ticket.url if ticket else "")

    def record_assessment(self, assessment: Assessment, *, at: datetime, by: str) -> TimelineEntry:
        self.assessment = assessment
        return self._entry(EntryKind.ASSESSMENT, assessment.describe(), utc(at), by)

    def update_sent(self, at: datetime) -> bool:
        """A stakeholder or status-page update went out at `at` (sent here, or by a
        teammate's cockpit): the update clock runs from the newest. Whether it moved."""
        at = utc(at)
        if self.last_update_at is not None and self.last_update_at >= at:
            return False
        self.last_update_at = at
        return True

    # -- storage -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "v": SCHEMA_VERSION,
            "id": self.id,
            "title": self.title,
            "summary": self.summary,
            "severity": self.severity.value if self.severity else None,
            "status": self.status.value,
            "cancel_reason": self.cancel_reason,
            "first_reported_at": to_iso(self.first_reported_at),
            "created_at": to_iso(self.created_at),
            "created_by": self.created_by,
            "acknowledged_at": to_iso(self.acknowledged_at),
            "fixing_at": to_iso(self.fixing_at),
            "mitigated_at": to_iso(self.mitigated_at),
            "resolved_at": to_iso(self.resolved_at),
            "canceled_at": to_iso(self.canceled_at),
            "last_update_at": to_iso(self.last_update_at),
            "roles": {r.value: p for r, p in self.roles.items()},
            "role_history": [c.to_dict() for c in self.role_history],
            "links": self.links.to_dict(),
            "assessment": self.assessment.to_dict(),
            "affected_components": list(self.affected_components),
            "labels": list(self.labels),
            "drill": self.drill,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Incident:
        def t(key: str) -> datetime | None:
            return from_iso(d.get(key))

        first = t("first_reported_at")
        created = t("created_at")
        assert first is not None and created is not None
        return cls(
            id=str(d["id"]),
            title=sanitize(d.get("title", ""), single_line=True),
            summary=sanitize(d.get("summary", "")),
            severity=Severity(d["severity"]) if d.get("severity") else None,
            status=Status(d.get("status", "reported")),
            cancel_reason=sanitize(d.get("cancel_reason", "")),
            first_reported_at=first,
            created_at=created,
            created_by=sanitize(d.get("created_by", ""), single_line=True),
            acknowledged_at=t("acknowledged_at"),
            fixing_at=t("fixing_at"),
            mitigated_at=t("mitigated_at"),
            resolved_at=t("resolved_at"),
            canceled_at=t("canceled_at"),
            last_update_at=t("last_update_at"),
            roles={Role(r): sanitize(p, single_line=True) for r, p in d.get("roles", {}).items()},
            role_history=[RoleChange.from_dict(x) for x in d.get("role_history", [])],
            links=Links.from_dict(d.get("links") or {}),
            assessment=Assessment.from_dict(d.get("assessment") or {}),
            affected_components=[
                sanitize(x, single_line=True) for x in d.get("affected_components", [])
            ],
            labels=[sanitize(x, single_line=True) for x in d.get("labels", [])],
            drill=bool(d.get("drill", False)),
        )

    def copy(self) -> Incident:
        return msgspec.structs.replace(
            self,
            roles=dict(self.roles),
            role_history=list(self.role_history),
            links=Links.from_dict(self.links.to_dict()),
            assessment=Assessment.from_dict(self.assessment.to_dict()),
            affected_components=list(self.affected_components),
            labels=list(self.labels),
        )
