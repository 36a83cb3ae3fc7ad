"""Presence on the remote side: this cockpit's entry on the shown incident's ticket, and
who else is there (the design: cockpit.domain.presence).

`PresenceLoop` runs on the remote thread's loop (application/runtime.py). `show(incident)`
(on that loop) names the incident on screen: its ticket is refreshed at once, then every
`PERIOD`, and at once again when the person's roles on it change; the ticket of the
incident left behind has this cockpit's entry taken off. Each refresh is one GET and one
PUT of the issue property on Jira (nothing on Slack). What it read is kept per incident
(`others`, for the header: any thread may ask) and `on_seen(incident_id)` is called when
who is there changed, so the screen redraws. A failed refresh is logged and tried at the
next period; what was read before still shows until it is stale.

No Textual here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from cockpit.domain.clock import Clock
from cockpit.domain.incident import Incident, Role
from cockpit.domain.presence import (
    PERIOD,
    PROPERTY_KEY,
    Here,
    merge,
    others,
    parse,
    value,
)
from cockpit.domain.team import TeamKey
from cockpit.integrations.errors import RemoteError

log = logging.getLogger("cockpit.presence")


class PropertyClient(Protocol):
    """What presence needs of Jira's client: an issue property read and written."""

    async def get_property(self, key: str, prop: str) -> Any: ...

    async def set_property(self, key: str, prop: str, value: Any) -> None: ...


@dataclass(frozen=True)
class _Shown:
    incident_id: str
    ticket: str
    incident: Incident


class PresenceLoop:
    """Keeps this cockpit's presence on the shown incident's ticket (module doc)."""

    def __init__(
        self,
        client: PropertyClient,
        *,
        cockpit: str,
        person: str,
        clock: Clock,
        on_seen: Callable[[str], None] = lambda _iid: None,
        period: float = PERIOD.total_seconds(),
        guard: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
    ) -> None:
        self.client = client
        self.cockpit = cockpit
        self.person = person
        self.clock = clock
        self.on_seen = on_seen
        self.period = period
        self.guard = guard
        self.requests = 0  # made so far (the budget's tests count them)
        self._shown: _Shown | None = None
        self._leaving: list[str] = []  # tickets to take this cockpit's entry off
        self._seen: dict[str, list[Here]] = {}  # incident id → everyone there, as read
        self._reported: dict[str, list[str]] = {}  # incident id → who was said to be there
        self._lock = threading.Lock()
        self._wake: asyncio.Event | None = None

    # -- what is on screen (on the loop) -------------------------------------------------
    def show(self, incident: Incident) -> None:
        """The incident on screen (open, with a ticket: or none to be present on)."""
        ticket = TeamKey.of(incident).ticket if incident.is_open else ""
        before = self._shown
        self._shown = _Shown(incident.id, ticket, incident) if ticket else None
        if before is not None and before.ticket != ticket and before.ticket:
            self._leaving.append(before.ticket)
        if before is None or before.ticket != ticket:
            self.wake()
        elif ticket and self._roles(before.incident) != self._roles(incident):
            self.wake()  # (the roles it says the person holds changed)

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _roles(self, incident: Incident) -> tuple[Role, ...]:
        return tuple(r for r in Role if incident.roles.get(r) == self.person)

    # -- who is there (any thread) -------------------------------------------------------
    def others(self, incident_id: str) -> list[Here]:
        """Who else has this incident open, as last read (stale ones left out now)."""
        with self._lock:
            entries = list(self._seen.get(incident_id, []))
        return others(entries, me=self.cockpit, person=self.person, now=self.clock.now())

    # -- the loop --------------------------------------------------------------------------
    async def run(self) -> None:
        self._wake = asyncio.Event()
        while True:
            self._wake.clear()
            await self.refresh()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.period)

    async def refresh(self) -> None:
        """Take this cockpit off the tickets it left; refresh its entry on the shown one."""
        while self._leaving:
            ticket = self._leaving.pop(0)
            await self._write(ticket, None)
        shown = self._shown
        if shown is None:
            return
        mine = Here.of(
            shown.incident, cockpit=self.cockpit, person=self.person, at=self.clock.now()
        )
        written = await self._write(shown.ticket, mine)
        if written is None:
            return
        with self._lock:
            self._seen[shown.incident_id] = written
        now = self.clock.now()
        there = others(written, me=self.cockpit, person=self.person, now=now)
        labels = [h.label() for h in there]
        if labels != self._reported.get(shown.incident_id, []):
            self._reported[shown.incident_id] = labels
            self.on_seen(shown.incident_id)

    async def _write(self, ticket: str, mine: Here | None) -> list[Here] | None:
        """Read the ticket's property, put it back with `mine` in place of this cockpit's
        entry (None: taken off) and the stale ones dropped; what it holds now."""
        try:
            with self.guard():
                self.requests += 1
                current = parse(await self.client.get_property(ticket, PROPERTY_KEY))
                now = self.clock.now()
                new = merge(current, mine, me=self.cockpit, now=now)
                if mine is None and not any(h.cockpit == self.cockpit for h in current):
                    return new  # (not there: nothing to take off)
                self.requests += 1
                await self.client.set_property(ticket, PROPERTY_KEY, value(new))
                return new
        except RemoteError as e:
            log.warning("presence on %s: %s", ticket, e)
            return None
