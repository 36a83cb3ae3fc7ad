"""The integrations registry: the three systems as registered, the outbox dispatching by
an operation's system prefix, and a system added by registration alone (a dummy pager,
registered in the test, with its own `[pager]` config section) read from the config file,
sending an outbox item through the real sender and store, and checked by the doctor."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cockpit.application.sender import OutboxSender
from cockpit.config import ConfigError, Settings, load_settings
from cockpit.configkit import HasSystems, Name, Section, system, url
from cockpit.domain.clock import FrozenClock, SystemClock
from cockpit.domain.incident import Incident, Link
from cockpit.domain.outbox import OutboxItem, OutboxState
from cockpit.domain.timeline import EntryKind, TimelineEntry
from cockpit.integrations.base import (
    HandlerContext,
    Handlers,
    Integration,
    NotConfigured,
    Operation,
    Outcome,
    Secret,
    UnknownOperation,
)
from cockpit.integrations.checks import Check, DoctorCheck, DoctorContext, sign_in_check
from cockpit.integrations.outbox import Clients, RemoteActions, build_clients
from cockpit.integrations.registry import INTEGRATIONS, register, registered, secrets
from cockpit.store.store import Store

PLANNED = (  # every operation cockpit/application/planner.py plans
    "jira.comment",
    "jira.create_follow_up",
    "jira.create_issue",
    "jira.link_issue",
    "jira.remote_link",
    "jira.set_severity",
    "jira.transition",
    "slack.create_channel",
    "slack.invite",
    "slack.post",
    "statuspage.create",
    "statuspage.update",
)


# -- a system of the test's own: a pager ---------------------------------------------------
class PagerSettings(msgspec.Struct, frozen=True):
    url: str = "https://pager.test"
    service: str = ""


class PagerSection(Section):  # [pager] in the config file
    url: Name = "https://pager.test"
    service: Name = ""

    def __post_init__(self) -> None:
        self.url = url("url", self.url)

    def settings(self) -> PagerSettings:
        return PagerSettings(url=self.url, service=self.service)


class PagerClient:
    def __init__(self, token: str, url: str = "", **client_kw: Any) -> None:
        self.token, self.url = token, url
        self.pages: list[tuple[str, str]] = []  # (dedup key, summary)
        self.closed = False

    async def trigger(self, dedup_key: str, summary: str) -> str:
        if all(key != dedup_key for key, _ in self.pages):  # like PagerDuty: deduplicated
            self.pages.append((dedup_key, summary))
        return f"PD{len(self.pages)}"

    async def whoami(self) -> str:
        return "the on-call bot"

    async def aclose(self) -> None:
        self.closed = True


class PagerHandlers(Handlers[PagerClient]):
    def __init__(self, ctx: HandlerContext[PagerClient]) -> None:
        super().__init__(ctx)
        self.operations = {"trigger": Operation(self.trigger, message=True)}

    async def trigger(self, item: OutboxItem, incident: Incident) -> Outcome:
        remote = await self.ctx.client.trigger(item.id, self.ctx.text(item, incident))
        url = f"https://pager.test/incidents/{remote}"

        def apply(inc: Incident, at: datetime, by: str) -> list[TimelineEntry]:
            inc.links.follow_ups.append(Link(url, remote))
            return []

        return Outcome(remote_id=remote, remote_link=url, text=f"paged ({remote})", apply=apply)


def pager_client(settings: HasSystems, token: str, /, **client_kw: Any) -> PagerClient:
    return PagerClient(token, system(settings, "pager", PagerSettings).url, **client_kw)


def pager_handlers(ctx: HandlerContext[Any]) -> Handlers[Any]:
    return PagerHandlers(ctx)


async def check_pager(ctx: DoctorContext) -> Check:
    async def probe(client: Any) -> str:
        return f"signed in as {await client.whoami()}"

    return await sign_in_check(ctx, probe)


PAGER = Integration(
    name="pager",
    label="Pager",
    config="pager",
    settings_section=PagerSection,
    secrets=(Secret("pager", "Pager"),),
    client=pager_client,
    handlers=pager_handlers,
    checks=(DoctorCheck("pager", check_pager),),
)


ENV = {"COCKPIT_USER": "ada", "COCKPIT_TIMEZONE": "UTC"}


@pytest.fixture
def settings() -> Settings:
    return load_settings(None, ENV)


def with_pager(tmp_path: Path, section: str = "[pager]\n") -> Settings:
    """The settings of a config file with `section` (PAGER must be registered)."""
    path = tmp_path / "config.toml"
    path.write_text(section)
    return load_settings(path, ENV)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store.open(tmp_path / "data")
    yield s
    s.close()


def incident(store: Store, clock: FrozenClock) -> Incident:
    inc = Incident(
        id=store.next_incident_id(),
        title="Checkout payments failing",
        first_reported_at=clock.now(),
        created_at=clock.now(),
        created_by="ada",
    )
    store.create_incident(inc)
    return inc


def render(incident: Incident, template: str) -> str:
    return f"{template}: {incident.title}"


# -- the three systems --------------------------------------------------------------------
def test_the_three_systems_are_registered() -> None:
    assert list(INTEGRATIONS) == ["slack", "jira", "statuspage"]
    assert [i.label for i in INTEGRATIONS.values()] == ["Slack", "Jira", "Statuspage"]
    assert {i.name: i.config for i in INTEGRATIONS.values()} == {
        "slack": "slack",
        "jira": "jira",
        "statuspage": "statuspage",
    }
    assert [(s.name, i.name) for s, i in secrets()] == [
        ("slack", "slack"),
        ("jira", "jira"),
        ("statuspage", "statuspage"),
        ("slack-app", "slack"),
    ]
    assert [i.name for i in INTEGRATIONS.values() if i.feed] == ["slack"]
    # each brings its config section from its own package
    assert {i.name: i.settings_section.__module__ for i in INTEGRATIONS.values()} == {
        name: f"cockpit.integrations.{name}.settings" for name in INTEGRATIONS
    }


def test_every_planned_operation_has_a_handler(settings: Settings) -> None:
    actions = RemoteActions(Clients(settings), render)
    for operation in PLANNED:
        system, _, name = operation.partition(".")
        assert name in actions.handlers(system).operations, operation
    # what the timeline shows as sent rather than as an action
    now = SystemClock().now()
    sent = [op for op in PLANNED if actions.sends_message(OutboxItem.new("1", op, op, {}, at=now))]
    assert sent == ["jira.comment", "slack.post", "statuspage.update"]


def test_planned_operations_match_the_planner() -> None:
    planner = Path(__file__).parents[2] / "cockpit" / "application" / "planner.py"
    found = set(re.findall(r'"((?:slack|jira|statuspage)\.[a-z_]+)"', planner.read_text()))
    assert found == set(PLANNED)


async def test_unknown_operations_say_so(settings: Settings) -> None:
    actions = RemoteActions(Clients(settings), render)
    clock = FrozenClock(SystemClock().now())
    inc = Incident(
        id="1", title="x", first_reported_at=clock.now(), created_at=clock.now(), created_by="a"
    )
    for op, words in (
        ("teams.post", "'teams.post': operations are '<system>.<operation>'"),
        ("nodot", "'nodot'"),
        ("jira.close_everything", "Jira has jira.create_issue, jira.transition"),
    ):
        item = OutboxItem.new("1", op, op, {}, at=clock.now())
        for call in (actions.perform, actions.find, actions.note_before):
            with pytest.raises(UnknownOperation) as e:
                await call(item, inc)
            assert words in str(e.value)


async def test_a_system_without_a_client_is_not_configured(settings: Settings) -> None:
    actions = RemoteActions(Clients(settings), render)
    clock = FrozenClock(SystemClock().now())
    inc = Incident(
        id="1", title="x", first_reported_at=clock.now(), created_at=clock.now(), created_by="a"
    )
    inc.links.ticket = Link("https://acme.jira.test/browse/INC-1", "INC-1")
    item = OutboxItem.new("1", "jira.comment", "comment", {"text": "hi"}, at=clock.now())
    with pytest.raises(NotConfigured, match=r"Jira is not configured \(\[jira\] in the config\)"):
        await actions.perform(item, inc)
    item = OutboxItem.new("1", "statuspage.create", "sp", {"text": "hi"}, at=clock.now())
    with pytest.raises(NotConfigured, match="the status page is not configured"):
        await actions.perform(item, inc)


def test_names_must_be_new() -> None:
    with pytest.raises(ValueError, match="registered already"):
        register(INTEGRATIONS["slack"])


# -- a new system: one registration --------------------------------------------------------
def test_a_registered_system_brings_its_own_config_section(tmp_path: Path) -> None:
    with registered(PAGER):
        s = with_pager(tmp_path, '[pager]\nurl = "https://pager.example.com/"\nservice = "pay"\n')
        assert s.systems == {"pager": PagerSettings("https://pager.example.com", "pay")}
        assert s.configured == frozenset({"pager"}) and PAGER.configured(s)
        assert with_pager(tmp_path, "[pager]\n").systems["pager"] == PagerSettings()
        assert not PAGER.configured(with_pager(tmp_path, "[slack]\n"))
        # its keys are checked like cockpit's own, the errors naming the dotted key
        with pytest.raises(ConfigError) as err:
            with_pager(tmp_path, '[pager]\nservise = "pay"\n')
        assert err.value.key == "pager.servise"
        assert str(err.value).endswith("pager.servise: unknown key; allowed: service, url")
        with pytest.raises(ConfigError) as err:
            with_pager(tmp_path, '[pager]\nurl = "pager.example.com"\n')
        assert err.value.key == "pager.url" and "not an http:// or https:// URL" in str(err.value)
        with pytest.raises(ConfigError) as err:
            with_pager(tmp_path, "[pager]\nservice = 7\n")
        assert str(err.value).endswith("pager.service: must be a string, not a whole number (7)")
    # not registered: [pager] is a section cockpit does not know
    with pytest.raises(ConfigError) as err:
        with_pager(tmp_path, "[pager]\n")
    assert err.value.key == "pager" and "unknown section" in str(err.value)


async def test_a_registered_system_sends_an_outbox_item(store: Store, tmp_path: Path) -> None:
    clock = FrozenClock(SystemClock().now())
    inc = incident(store, clock)
    with registered(PAGER):
        settings = with_pager(tmp_path, '[pager]\nurl = "https://pager.example.com"\n')
        clients = build_clients(settings, {"pager": "pd-token"}.get)
        assert set(clients) == {"pager"}  # the others are not configured
        pager = clients["pager"]
        assert isinstance(pager, PagerClient) and pager.token == "pd-token"
        assert pager.url == "https://pager.example.com"  # from its own section
        sender = OutboxSender(store, RemoteActions(clients, render), clock, user="ada")
        item = OutboxItem.new(
            inc.id, "pager.trigger", "Page the on-call", {"template": "page"}, at=clock.now()
        )
        sender.enqueue([item])
        assert await sender.drain() == 1
        (sent,) = sender.items(inc.id)
        assert sent.state is OutboxState.SENT and sent.remote_id == "PD1"
        assert sent.remote_link == "https://pager.test/incidents/PD1"
        assert pager.pages == [(item.id, "page: Checkout payments failing")]
        after = store.get_incident(inc.id)
        assert [x.label for x in after.links.follow_ups] == ["PD1"]
        (entry,) = [e for e in store.timeline(inc.id) if e.text == "paged (PD1)"]
        assert entry.kind is EntryKind.SENT  # Operation(message=True)
        await clients.aclose()
        assert pager.closed
    assert "pager" not in INTEGRATIONS


async def test_a_registered_system_is_checked_by_the_doctor(tmp_path: Path) -> None:
    from cockpit.config import Paths
    from cockpit.doctor import run_doctor
    from cockpit.secrets import BackendStatus

    class Tokens:  # the secret names of a system registered by a test are not cockpit's
        def probe(self) -> BackendStatus:
            return BackendStatus("memory", True, "")

        def get(self, name: str) -> str | None:
            return {"pager": "pd-token"}.get(name)

        def env_token(self, name: str) -> str | None:
            return None

    paths = Paths(tmp_path / "config.toml", tmp_path / "data", tmp_path / "logs")
    with registered(PAGER):
        settings = with_pager(tmp_path)
        checks = await run_doctor(settings, paths, Tokens(), env={})  # type: ignore[arg-type]
    by_name = {c.name: c for c in checks}
    assert by_name["Pager"] == Check("Pager", True, "signed in as the on-call bot")
    assert by_name["Slack"].detail == "not configured"


def test_the_registry_does_not_import_httpx_or_the_store() -> None:
    code = (
        "import sys; import cockpit.integrations.registry, cockpit.secrets; "
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'httpx' "
        "or m.startswith(('cockpit.store', 'cockpit.application')))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_integrations_never_import_the_store_or_the_application() -> None:
    root = Path(__file__).parents[2] / "cockpit" / "integrations"
    bad = re.compile(r"^\s*(from|import)\s+cockpit\.(store|application)\b", re.M)
    offenders = [str(p) for p in root.rglob("*.py") if bad.search(p.read_text())]
    assert offenders == []
