"""What each outbox operation does on the remote systems, and how to find its effect.

`RemoteActions.perform(item, incident)` does an item's effect; `find(item, incident)`
looks for it after an uncertain attempt (a marker in Slack message metadata, a label on
the Jira issue, a comment property, the status page's incident metadata or update
count); `note_before` keeps facts for that before the first attempt. An operation of
several requests is a list of durable steps (`steps(item)`, each with its own look for
the effect), which the sender goes through one by one, noting each on disk; `perform`
then only builds the outcome. Each dispatches by
the operation's system prefix through the registry (registry.py): "jira.create_issue"
is the `create_issue` operation of the Jira handlers (jira/handlers.py).

`Clients` holds the client of each configured system that has a token, by system name;
`build_clients` makes them. No store and no Textual here: the sender
(`cockpit.application.sender`) keeps the items on disk and calls these.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

from cockpit.integrations import registry
from cockpit.integrations.base import (
    HandlerContext,
    Handlers,
    NotConfigured,
    Operation,
    Outcome,
    RemoteClient,
    Render,
    Step,
    UnknownOperation,
)
from cockpit.integrations.slack.links import channel_id_of, permalink, thread_of

if TYPE_CHECKING:
    from cockpit.configkit import HasSystems
    from cockpit.domain.incident import Incident
    from cockpit.domain.outbox import OutboxItem
    from cockpit.integrations.source import MessageSource

__all__ = [
    "Clients",
    "NotConfigured",
    "Outcome",
    "RemoteActions",
    "Render",
    "UnknownOperation",
    "build_clients",
    "channel_id_of",
    "permalink",
    "thread_of",
]

log = logging.getLogger("cockpit.outbox")


class Clients(Mapping[str, RemoteClient]):
    """The client of each configured system that has a token, by system name."""

    def __init__(self, settings: HasSystems, clients: Mapping[str, RemoteClient] | None = None):
        self.settings = settings
        self._clients: dict[str, RemoteClient] = dict(clients or {})

    def __getitem__(self, name: str) -> RemoteClient:
        return self._clients[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._clients)

    def __len__(self) -> int:
        return len(self._clients)

    def __repr__(self) -> str:
        return f"Clients({sorted(self._clients)})"

    def message_source(self) -> MessageSource | None:
        """The client the live feed reads (a registered `feed` system's), if any."""
        for integration in registry.INTEGRATIONS.values():
            if integration.feed and integration.name in self._clients:
                return cast("MessageSource", self._clients[integration.name])
        return None

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()


class RemoteActions:
    """Each operation: perform it, or find its effect after an uncertain attempt."""

    def __init__(self, clients: Clients, render: Render) -> None:
        self.c = clients
        self.render = render
        self._handlers: dict[str, Handlers[Any]] = {}

    def handlers(self, system: str) -> Handlers[Any]:
        """The handlers of a registered system, made once (they cache their look-ups)."""
        handlers = self._handlers.get(system)
        if handlers is None:
            integration = registry.INTEGRATIONS[system]
            ctx: HandlerContext[Any] = HandlerContext(
                self.c.settings, self.render, self.c.get(system), integration.not_configured
            )
            handlers = self._handlers[system] = integration.handlers(ctx)
        return handlers

    def operation(self, item: OutboxItem) -> Operation:
        system, _, name = item.operation.partition(".")
        integration = registry.INTEGRATIONS.get(system)
        if integration is None or not name:
            known = ", ".join(registry.INTEGRATIONS)
            raise UnknownOperation(
                f"unknown outbox operation {item.operation!r}: operations are "
                f"'<system>.<operation>' of a known system ({known})"
            )
        op = self.handlers(system).operations.get(name)
        if op is None:
            has = ", ".join(f"{system}.{n}" for n in self.handlers(system).operations)
            raise UnknownOperation(
                f"unknown outbox operation {item.operation!r}: {integration.label} has {has}"
            )
        return op

    def sends_message(self, item: OutboxItem) -> bool:
        """Whether the item's operation sends words people read (`Operation.message`)."""
        try:
            return self.operation(item).message
        except UnknownOperation:
            return False

    def steps(self, item: OutboxItem) -> tuple[Step, ...]:
        """The durable steps of the item's operation (empty: one request, `perform` it)."""
        return self.operation(item).steps

    async def perform(self, item: OutboxItem, incident: Incident) -> Outcome:
        """Do the item's effect. For an operation of steps: the steps not done yet (in
        memory only: the sender does them one by one and notes each), then its outcome."""
        op = self.operation(item)
        for step in op.steps:
            if step.name not in item.done_steps:
                item = item.step_done(step.name, await step.do(item, incident), at=item.updated_at)
        return await op.do(item, incident)

    async def find(self, item: OutboxItem, incident: Incident) -> Outcome | None:
        """The effect of an uncertain attempt, if it is there. None for idempotent
        operations (doing it again is the check) and for operations of steps (each step
        is looked for by its own `Step.find`)."""
        op = self.operation(item)
        if op.find is None or op.steps:
            return None
        return await op.find(item, incident)

    async def note_before(self, item: OutboxItem, incident: Incident) -> dict[str, Any]:
        """Facts to keep before the first attempt, for finding the effect later."""
        op = self.operation(item)
        if op.note_before is None:
            return {}
        return await op.note_before(item, incident)


def build_clients(
    settings: HasSystems, token: Callable[[str], str | None], **client_kw: Any
) -> Clients:
    """The clients for every configured system that has a token (`token(name)`)."""
    clients: dict[str, RemoteClient] = {}
    for integration in registry.INTEGRATIONS.values():
        if integration.configured(settings) and (t := token(integration.token_name)):
            clients[integration.name] = integration.client(settings, t, **client_kw)
    return Clients(settings, clients)
