"""Presence: who else has an incident open in cockpit, and in which role.

The header says "also here: Bo (Comms)". Telling that through the incident's channel
would post a message a minute per responder (Slack's budget is the feed's, and people
read that channel), so presence lives on the incident's Jira ticket instead, as one
issue entity property (`PROPERTY_KEY`), never shown to people in Jira:

    {"v": 1, "here": [{"cockpit": "<id>", "person": "Bo", "roles": ["comms"],
                       "seen": "<ISO time>"}, …]}

Each cockpit with the incident open reads the property and writes it back with its own
entry refreshed (`merge`), once a `PERIOD` and when the incident is opened or its roles
change: two Jira requests a minute, none to Slack. Entries not refreshed for `STALE_AFTER`
(three periods: a cockpit closed, crashed or offline) are dropped by the next writer and
never shown. Two cockpits writing at the same moment may drop each other's entry: it is
back at the writer's next refresh, well within `STALE_AFTER`, so a teammate never blinks
out for long (a lock per property would cost a request each time, for nothing better).
A cockpit that switches to another incident takes its entry off the one it leaves.

The property is remote text anyone who may edit the issue can write: `parse` checks every
type and size, sanitizes the names, keeps at most `MAX_ENTRIES`, and never raises.

Pure: no I/O (application/presence.py reads and writes the property).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import msgspec

from cockpit.domain.clock import from_iso, to_iso, utc
from cockpit.domain.incident import Incident, Role
from cockpit.domain.sanitize import sanitize

PROPERTY_KEY: Final = "cockpit.presence"
VERSION: Final = 1
PERIOD: Final = timedelta(seconds=60)  # a cockpit refreshes its entry this often
STALE_AFTER: Final = 3 * PERIOD  # not refreshed for this long: gone
MAX_ENTRIES: Final = 20
MAX_NAME: Final = 80
_COCKPIT = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ROLES: Final = {r.value: r for r in Role}
_SHORT: Final = {Role.COMMANDER: "IC", Role.COMMS: "Comms"}


class Here(msgspec.Struct, frozen=True):
    """One cockpit with the incident open: whose, in which roles, when it last said so."""

    cockpit: str
    person: str
    roles: tuple[Role, ...]
    seen: datetime

    @classmethod
    def of(cls, incident: Incident, *, cockpit: str, person: str, at: datetime) -> Here:
        """This cockpit's entry: the roles the person holds on the incident."""
        person = sanitize(person, single_line=True).strip()[:MAX_NAME]
        roles = tuple(r for r in Role if person and incident.roles.get(r) == person)
        return cls(cockpit, person, roles, utc(at))

    def to_dict(self) -> dict[str, Any]:
        return {
            "cockpit": self.cockpit,
            "person": self.person,
            "roles": [r.value for r in self.roles],
            "seen": to_iso(self.seen),
        }

    def fresh(self, now: datetime) -> bool:
        """Seen within `STALE_AFTER` (a time ahead of ours, by a little clock skew, too)."""
        return utc(now) - STALE_AFTER <= self.seen <= utc(now) + PERIOD

    def label(self, incident: Incident | None = None) -> str:
        """Its person and roles: "Bo (Comms)", "Ana (IC, Comms)", "Cy". With `incident`:
        the roles it says the person holds (the team's events keep those current on every
        cockpit; the entry's may be a period old)."""
        roles = self.roles
        if incident is not None:
            roles = tuple(r for r in Role if incident.roles.get(r) == self.person)
        if not roles:
            return self.person
        return f"{self.person} ({', '.join(_SHORT[r] for r in roles)})"


def _entry(raw: object) -> Here | None:
    if not isinstance(raw, Mapping):
        return None
    cockpit, person, roles, seen = (raw.get(k) for k in ("cockpit", "person", "roles", "seen"))
    if not isinstance(cockpit, str) or not _COCKPIT.fullmatch(cockpit):
        return None
    if not isinstance(person, str) or len(person) > MAX_NAME:
        return None
    person = sanitize(person, single_line=True).strip()
    if not person or not isinstance(roles, list) or len(roles) > len(_ROLES):
        return None
    if not all(isinstance(r, str) and r in _ROLES for r in roles):
        return None
    if not isinstance(seen, str) or len(seen) > 40:
        return None
    try:
        at = from_iso(seen)
    except ValueError:
        return None
    if at is None:
        return None
    ordered = tuple(r for r in Role if r.value in roles)
    return Here(cockpit, person, ordered, at)


def parse(value: object) -> list[Here]:
    """The entries of the property's value (as Jira returned it): the well-formed ones,
    one per cockpit (its newest), at most `MAX_ENTRIES`; never raises."""
    try:
        if not isinstance(value, Mapping) or value.get("v") != VERSION:
            return []
        if isinstance(value.get("v"), bool):
            return []
        raw = value.get("here")
        if not isinstance(raw, list):
            return []
        best: dict[str, Here] = {}
        for item in raw[: MAX_ENTRIES * 2]:
            here = _entry(item)
            if here is not None and (
                here.cockpit not in best or best[here.cockpit].seen < here.seen
            ):
                best[here.cockpit] = here
        return sorted(best.values(), key=lambda h: h.seen, reverse=True)[:MAX_ENTRIES]
    except (TypeError, ValueError, RecursionError):
        return []


def merge(entries: Iterable[Here], mine: Here | None, *, me: str, now: datetime) -> list[Here]:
    """What this cockpit writes back: its own entry (`mine`; None when it leaves) in place
    of its old one, the others' that are still fresh."""
    kept = [h for h in entries if h.cockpit != me and h.fresh(now)]
    if mine is not None:
        kept.insert(0, mine)
    return sorted(kept, key=lambda h: h.seen, reverse=True)[:MAX_ENTRIES]


def value(entries: Sequence[Here]) -> dict[str, Any]:
    """The property's value for these entries."""
    return {"v": VERSION, "here": [h.to_dict() for h in entries]}


def others(entries: Iterable[Here], *, me: str, person: str, now: datetime) -> list[Here]:
    """Who else has the incident open, to show: fresh entries of other cockpits, one per
    person (their newest), not the person using this cockpit, by name."""
    seen: dict[str, Here] = {}
    for h in entries:
        if h.cockpit == me or h.person == person or not h.fresh(now):
            continue
        if h.person not in seen or seen[h.person].seen < h.seen:
            seen[h.person] = h
    return sorted(seen.values(), key=lambda h: h.person.casefold())


def also_here(entries: Sequence[Here], incident: Incident | None = None) -> str:
    """The header's words: "also here: Bo (Comms), Cy" ("" when nobody else is); with
    `incident`, the roles as it holds them."""
    if not entries:
        return ""
    return "also here: " + ", ".join(h.label(incident) for h in entries)
