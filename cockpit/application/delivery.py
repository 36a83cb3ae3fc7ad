"""Sending one incident's outbox now, for a command that waits for it (the CLI).

`deliver` runs the same sender the app runs, for one incident, until nothing of it is
pending or the deadline passes; what is still queued then stays on disk and goes out with
the next cockpit that runs. `report` says each step's state in plain words.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from cockpit.application.build import Services
from cockpit.application.sender import OutboxSender
from cockpit.domain.outbox import OutboxItem, OutboxState, blocking

# exit statuses of a command that changed an incident
EXIT_DONE, EXIT_FAILED, EXIT_REFUSED, EXIT_QUEUED = 0, 1, 2, 3


@dataclass(frozen=True)
class Delivery:
    """The items a command queued, as they stand after waiting for them."""

    items: list[OutboxItem]
    missing_tokens: list[str]

    @property
    def exit_status(self) -> int:
        states = {i.state for i in self.items}
        if OutboxState.FAILED in states:
            return EXIT_FAILED
        if any(s.pending for s in states):
            return EXIT_QUEUED
        return EXIT_DONE

    def lines(self) -> list[str]:
        """One line per step: SENT (with its link), QUEUED (why it waits) or FAILED (why)."""
        out = []
        for item in self.items:
            if item.state is OutboxState.SENT:
                where = f"  {item.remote_link}" if item.remote_link else ""
                out.append(f"SENT    {item.title}{where}")
            elif item.state is OutboxState.FAILED:
                out.append(f"FAILED  {item.title}: {item.reason}")
            elif item.state is OutboxState.DISCARDED:
                out.append(f"DISCARDED {item.title}")
            else:
                why = f": {item.reason}" if item.reason else ""
                out.append(f"QUEUED  {item.title}{why}")
        if any(i.state.pending for i in self.items):
            out.append(
                "What is QUEUED is kept and sent by the next cockpit that runs "
                "(the app, or any command that changes an incident)."
            )
        if any(i.state is OutboxState.FAILED for i in self.items):
            out.append("Retry or discard failed steps in the app (the drafts pane's outbox).")
        for name in self.missing_tokens:
            out.append(f"No token for {name}: cockpit auth set {name}")
        return out


def deliver(services: Services, queued: list[OutboxItem], *, wait: float) -> Delivery:
    """Send the queued items' incident outbox for up to `wait` seconds."""
    if not queued:
        return Delivery([], [])
    return asyncio.run(_deliver(services, queued, wait))


async def _deliver(services: Services, queued: list[OutboxItem], wait: float) -> Delivery:
    from cockpit.integrations.outbox import RemoteActions, build_clients

    settings = services.settings
    clients = build_clients(settings, services.token, **services.client_options)
    missing = [n for n in sorted(settings.configured) if n not in clients]
    sender = OutboxSender(
        services.store,
        RemoteActions(clients, services.render),
        services.clock,
        user=settings.user,
        # what it sends, told to the team (a draft, a status-page update)
        on_sent=services.actions.team.sent if services.actions.team is not None else None,
    )
    wanted = {i.id for i in queued}
    iids = sorted({i.incident_id for i in queued})
    deadline = time.monotonic() + max(0.0, wait)
    try:
        while True:
            for iid in iids:
                await sender.drain_incident(iid)
            items = [i for iid in iids for i in sender.items(iid)]
            mine = [i for i in items if i.id in wanted]
            left = [i for i in mine if i.state.pending]
            stuck = any(blocking(sender.items(iid)) is not None for iid in iids)
            if not left or stuck or time.monotonic() >= deadline or missing:
                break
            now = services.clock.now()
            waits = [
                (i.next_attempt_at - now).total_seconds()
                for i in left
                if i.next_attempt_at is not None
            ]
            pause = min([0.2, *[w for w in waits if w > 0]]) if waits else 0.2
            await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())) or 0.01)
    finally:
        await clients.aclose()
    order = {i.id: n for n, i in enumerate(queued)}
    return Delivery(sorted(mine, key=lambda i: order[i.id]), missing)
