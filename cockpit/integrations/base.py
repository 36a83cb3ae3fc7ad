"""What an integration is: the pieces each remote system's package provides.

A system (`cockpit/integrations/slack/`, `jira/`, `statuspage/`) describes itself with one
`Integration`: its name (the prefix of its outbox operations, "jira" in
"jira.create_issue"), its label, its config section and that section's schema, its secret
names, a factory of its client, a factory of its remote `Handlers` and its doctor checks.
`registry.py` lists them. Nothing here imports httpx or a client: this module is read at
start-up; it never imports cockpit.config either (config.py reads the registry): what a
system reads of the settings is `cockpit.configkit.HasSystems`.

The handlers of a system do what its outbox operations mean on the remote system, and
find their effect after an uncertain attempt; each is an `Operation` (do, find,
note_before) in the handlers' `operations` table. What they return is an `Outcome`. An
operation that makes more than one request with an effect (create a channel, then set its
topic) is a list of `Step`s: each is done at most once, its facts noted on disk before the
next one starts (see `cockpit.application.sender`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeAlias, TypeVar

import msgspec

from cockpit.domain.errors import CockpitError

if TYPE_CHECKING:
    from datetime import datetime

    import httpx

    from cockpit.configkit import HasSystems
    from cockpit.domain.incident import Incident
    from cockpit.domain.outbox import OutboxItem
    from cockpit.domain.timeline import TimelineEntry

Render: TypeAlias = "Callable[[Incident, str], str]"  # (incident, template name) → text


def env_var(secret: str) -> str:
    """The environment variable a token may come from: COCKPIT_<NAME>_TOKEN."""
    return f"COCKPIT_{secret.upper().replace('-', '_')}_TOKEN"


class NotConfigured(CockpitError):
    """An operation of a system that has no client (no config section, or no token)."""


class UnknownOperation(CockpitError):
    """An outbox operation no registered integration knows."""


class RemoteClient(Protocol):
    """What every system's client has (the `ApiClient`s do)."""

    async def aclose(self) -> None: ...


C = TypeVar("C", bound=RemoteClient)


class Outcome(msgspec.Struct):
    """What an action achieved: the remote thing it made, and what changes locally."""

    remote_id: str = ""
    remote_link: str = ""
    text: str = ""  # the timeline line for it
    apply: Callable[[Incident, datetime, str], list[TimelineEntry]] | None = None
    # no timeline line (a team event shared in the channel: its change has its own entry)
    quiet: bool = False


Do: TypeAlias = "Callable[[OutboxItem, Incident], Awaitable[Outcome]]"
Find: TypeAlias = "Callable[[OutboxItem, Incident], Awaitable[Outcome | None]]"
NoteBefore: TypeAlias = "Callable[[OutboxItem, Incident], Awaitable[dict[str, Any]]]"
StepDo: TypeAlias = "Callable[[OutboxItem, Incident], Awaitable[dict[str, Any]]]"
StepFind: TypeAlias = "Callable[[OutboxItem, Incident], Awaitable[dict[str, Any] | None]]"


class Step(msgspec.Struct, frozen=True):
    """One request with an effect (and the reads it needs) of a multi-request operation:
    a durable step of its own.

    `do` makes the effect and returns the facts to keep (the remote ids it produced: JSON
    values), which the sender notes in the item on disk (`OutboxItem.done_steps`) before
    the next step starts, so a step done is never done again. `find` looks for the effect
    after an uncertain attempt of this step and returns the same facts, or None when it is
    not there; no `find`: the step is idempotent, doing it again is the check. Later steps
    read earlier steps' facts from `item.step_facts(name)`.
    """

    name: str
    do: StepDo
    find: StepFind | None = None


class Operation(msgspec.Struct, frozen=True):
    """One outbox operation of a system.

    `do` does its effect. `find` looks for the effect after an uncertain attempt (None:
    the operation is idempotent, doing it again is the check). `note_before` returns the
    facts to keep before the first attempt, for `find` to use later. `message`: it
    sends words people read (a post, a comment, a public update), which the timeline
    shows as sent rather than as an action.

    With `steps`, the operation is those requests in order, each a durable `Step` with its
    own find-the-effect; `do` then only builds the `Outcome` from the steps' facts once
    every step is done: it may read (the workspace URL for a permalink), never write, so
    repeating it is harmless; `find` is not used.
    """

    do: Do
    find: Find | None = None
    note_before: NoteBefore | None = None
    message: bool = False
    steps: tuple[Step, ...] = ()


class HandlerContext(msgspec.Struct, Generic[C]):
    """What a system's handlers work with: the settings, the template renderer and the
    system's client, which may be missing (`client` then says it is not configured)."""

    settings: HasSystems
    render: Render
    maybe_client: C | None
    not_configured: str

    @property
    def client(self) -> C:
        if self.maybe_client is None:
            raise NotConfigured(self.not_configured)
        return self.maybe_client

    def text(self, item: OutboxItem, incident: Incident) -> str:
        """An item's text: given as is, or its template rendered for the incident."""
        if "text" in item.params:
            return str(item.params["text"])
        return self.render(incident, str(item.params["template"]))


class Handlers(Generic[C]):
    """A system's outbox operations by name ("create_issue" for "jira.create_issue").
    Subclasses fill `operations` in `__init__`; look-ups they cache (the workspace URL,
    an account id, component ids) live on the instance, which lasts as long as the
    `RemoteActions` holding it."""

    operations: Mapping[str, Operation]

    def __init__(self, ctx: HandlerContext[C]) -> None:
        self.ctx = ctx
        self.operations = {}

    @property
    def settings(self) -> HasSystems:
        return self.ctx.settings


class ClientFactory(Protocol):
    """`client(settings, token, **client_kw)`: the system's client for `token`;
    `client_kw` go to `ApiClient` (transport, timeout, deadline, retry, …)."""

    def __call__(self, settings: HasSystems, token: str, /, **client_kw: Any) -> RemoteClient: ...


HandlersFactory: TypeAlias = "Callable[[HandlerContext[Any]], Handlers[Any]]"


class Secret(msgspec.Struct, frozen=True):
    """A token cockpit keeps (keyring username, COCKPIT_<NAME>_TOKEN), and its label."""

    name: str
    label: str


class Integration(msgspec.Struct, frozen=True):
    """One remote system, as the rest of cockpit sees it.

    * `name`: the prefix of its outbox operations, and its name in `Settings.configured`
      and `Settings.systems`;
    * `config`: its section of the config file (`[<config>]`);
    * `settings_section`: that section's schema, a `cockpit.configkit.Section` whose
      `settings()` gives what `Settings.systems[name]` holds (None: no section, not
      configured);
    * `secrets`: its tokens, the client's first (`token_name`); others (Slack's
      app-level token) are for its doctor checks or its own extras;
    * `client(settings, token, **client_kw)`: its client (imports httpx only when called);
    * `handlers(context)`: its outbox operations (`Handlers`);
    * `checks`: what `cockpit doctor` checks when it is configured, in display order;
    * `feed`: its client is a `MessageSource` the live feed reads (Slack).
    """

    name: str
    label: str
    config: str
    settings_section: type
    secrets: tuple[Secret, ...]
    client: ClientFactory
    handlers: HandlersFactory
    checks: tuple[DoctorCheck, ...] = ()
    feed: bool = False
    not_configured_text: str = ""

    @property
    def token_name(self) -> str:
        return self.secrets[0].name

    @property
    def not_configured(self) -> str:
        """What an operation of this system says when there is no client for it."""
        return self.not_configured_text or (
            f"{self.label} is not configured ([{self.config}] in the config)"
        )

    def section(self, settings: HasSystems) -> object | None:
        """Its settings in `settings` (None: not configured)."""
        return settings.systems.get(self.name)

    def configured(self, settings: HasSystems) -> bool:
        return self.section(settings) is not None


# -- doctor checks: the data (the common checks are in checks.py) ------------------------
class Check(msgspec.Struct, frozen=True):
    """One verdict. `ok`: True passed, False failed, None neither (not configured, a
    warning that needs no action)."""

    name: str
    ok: bool | None
    detail: str
    hint: str = ""


class DoctorContext(msgspec.Struct, frozen=True):
    """What one check of `integration` gets: the settings, the token it asked for (None:
    not set; `unavailable` says why it could not be read, `unavailable_hint` what to do),
    the transport to use (tests answer the calls) and whether to stay offline."""

    integration: Integration
    settings: HasSystems
    token: str | None
    unavailable: str = ""
    unavailable_hint: str = ""
    transport: httpx.AsyncBaseTransport | None = None
    offline: bool = False

    def client(self, **client_kw: Any) -> RemoteClient:
        """The system's client for this check's token, with this check's transport."""
        assert self.token
        return self.integration.client(
            self.settings, self.token, transport=self.transport, **client_kw
        )


class DoctorCheck(msgspec.Struct, frozen=True):
    """One check of a system: `run` gets the token named `secret`."""

    secret: str
    run: Callable[[DoctorContext], Awaitable[Check]]
