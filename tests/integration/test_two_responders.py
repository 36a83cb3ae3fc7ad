"""Two responders, one incident: two cockpits (two data dirs, two users) on one drill range
(a real loopback server) converge through the ticket and the incident's channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from cockpit.application.actions import IncidentActions
from cockpit.application.sender import OutboxSender
from cockpit.application.service import IncidentService
from cockpit.application.team import (
    Applied,
    ChannelWatch,
    TeamSync,
    cockpit_id,
    is_team_post,
    settled_post,
)
from cockpit.config import Settings, load_settings
from cockpit.domain.clock import FrozenClock, SystemClock
from cockpit.domain.drafts import DraftState
from cockpit.domain.incident import Role, Severity, Status
from cockpit.domain.outbox import OutboxItem, OutboxState
from cockpit.domain.playbook import default_playbook
from cockpit.domain.slo import SupportCalendar
from cockpit.domain.team import LEDGER_TABLE, TeamKey
from cockpit.domain.templates import TemplateLibrary
from cockpit.domain.timeline import EntryKind
from cockpit.integrations.errors import RemoteError
from cockpit.integrations.http import POLL_DEADLINE, RetryPolicy, polling
from cockpit.integrations.outbox import RemoteActions, build_clients
from cockpit.integrations.slack.client import SlackClient
from cockpit.integrations.slack.links import thread_of
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.tokens import BOT_TOKEN, STATUSPAGE_KEY
from cockpit.store.store import Store

TOKENS = {"slack": BOT_TOKEN, "jira": "jira-test-token", "statuspage": STATUSPAGE_KEY}


class Cockpit:
    """One responder's cockpit: its own data dir, user, store, outbox and channel reader."""

    def __init__(self, tmp: Path, server: SandboxServer, user: str, clock: FrozenClock) -> None:
        config = tmp / f"{user}.toml"
        config.write_text(server.config_snippet())
        self.settings: Settings = load_settings(
            config, {"COCKPIT_USER": user, "COCKPIT_TIMEZONE": "UTC"}
        )
        self.user, self.clock = user, clock
        self.data = tmp / f"data-{user}"
        self.store = Store.open(self.data)
        self.service = IncidentService(
            self.store,
            clock=clock,
            tz=self.settings.tz,
            user=user,
            playbook=default_playbook(),
            configured=self.settings.configured,
            templates=TemplateLibrary(None),
        )
        self.actions = IncidentActions(self.service, calendar=SupportCalendar(self.settings.tz))
        self.team = TeamSync(self.service, cockpit_id(self.data))
        self.actions.team = self.team
        self.clients = build_clients(
            self.settings,
            TOKENS.get,
            timeout=2.0,
            deadline=5.0,
            retry=RetryPolicy(base_delay=0.01, max_delay=0.05, total=3.0),
        )

        def render(incident, template):  # type: ignore[no-untyped-def]
            entries = self.store.timeline(incident.id)
            return self.service.templates.render(
                template, self.service.draft_context(incident, entries)
            )

        self.sender = OutboxSender(
            self.store,
            RemoteActions(self.clients, render),
            clock,
            user=user,
            coalesce=self.team.coalesce,
            on_sent=self.team.sent,
            overtakes=is_team_post,  # (as the app's)
            settled=settled_post,
        )
        self.slack = cast(SlackClient, self.clients["slack"])

        async def apply(iid: str, messages: list[dict[str, Any]], channel: str) -> Applied:
            return self.team.apply(iid, messages, channel)

        self.watch = ChannelWatch(self.slack, apply)

    async def drain(self) -> None:
        for _ in range(50):
            await self.sender.drain()
            pending = [
                i
                for s in self.store.list_incidents()
                for i in self.sender.items(s.id)
                if i.state.pending or i.state.name == "FAILED"
            ]
            if not pending:
                return
            self.clock.advance(seconds=120)
        raise AssertionError(f"{self.user}: still pending: {pending}")

    async def read(self) -> list[Applied]:
        incidents = self.store.load_incidents([s.id for s in self.store.list_incidents()])
        return await self.watch.read_all(incidents)

    async def close(self) -> None:
        await self.clients.aclose()
        self.store.close()


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Cockpit, Cockpit, SandboxServer]]:
    # lenient: chat.postMessage's one a second per channel runs on the real clock, and the
    # outbox's waits on this test's virtual one (a burst of changes is paced by retries)
    with SandboxServer(port=0, scenario="quiet", seed=11, lenient=True) as server:
        clock = FrozenClock(SystemClock().now())
        ada = Cockpit(tmp_path, server, "ada", clock)
        bo = Cockpit(tmp_path, server, "bo", clock)
        yield ada, bo, server
        await ada.close()
        await bo.close()


def report(server: SandboxServer, text: str) -> str:
    base = server.base_url
    with httpx.Client() as c:
        posted = c.post(
            f"{base}/api/chat.postMessage",
            headers={"Authorization": "Bearer xoxp-priya"},
            json={"channel": "incidents", "text": text},
        ).json()
        assert posted["ok"], posted
        link = c.get(
            f"{base}/api/chat.getPermalink",
            headers={"Authorization": "Bearer xoxp-priya"},
            params={"channel": posted["channel"], "message_ts": posted["ts"]},
        ).json()
    return str(link["permalink"])


async def raise_or_join(c: Cockpit, link: str, title: str) -> str:
    """What the raise dialog does: look in the report's thread first, join if found."""
    from cockpit.domain.incident import Link

    where = thread_of(Link(link))
    assert where is not None
    found = await c.watch.look_for_raise(*where)
    if found is not None:
        return c.team.join(found).id
    done = c.actions.raise_incident(title, thread=link, reported_at="-20m")
    assert done.incident is not None
    return done.incident.id


def noting_attempts(c: Cockpit) -> list[str]:
    """What `c`'s sender tries from now on, in order: "team" for a team post, else the
    operation."""
    tried: list[str] = []
    attempt = c.sender.attempt

    async def noted(item: OutboxItem) -> bool:
        tried.append("team" if is_team_post(item) else item.operation)
        return await attempt(item)

    c.sender.attempt = noted  # type: ignore[method-assign]
    return tried


async def both_on(ada: Cockpit, bo: Cockpit, server: SandboxServer, text: str) -> tuple[str, str]:
    """A report of `text`: Ada raises it, Bo joins; both outboxes drained. Their ids."""
    link = report(server, text)
    a_id = await raise_or_join(ada, link, text)
    await ada.drain()
    b_id = await raise_or_join(bo, link, text)
    await bo.drain()
    return a_id, b_id


def texts(c: Cockpit, iid: str) -> list[str]:
    return [e.text for e in c.store.timeline(iid)]


async def test_two_cockpits_raise_once_join_and_converge(
    pair: tuple[Cockpit, Cockpit, SandboxServer],
) -> None:
    ada, bo, server = pair
    link = report(server, "Checkout is failing for every card payment")

    # Ada raises; her outbox makes the ticket, the channel, the reply in the thread
    a_id = await raise_or_join(ada, link, "Checkout is failing")
    await ada.drain()
    a_inc = ada.service.get(a_id)
    key = TeamKey.of(a_inc)
    assert key.ticket and key.channel

    # Bo, about to raise from the same report, finds Ada's raise and joins it
    b_id = await raise_or_join(bo, link, "Checkout broken")
    await bo.drain()
    b_inc = bo.service.get(b_id)
    assert TeamKey.of(b_inc) == key
    assert b_inc.title == "Checkout is failing"
    assert b_inc.first_reported_at == a_inc.first_reported_at
    state = server.state.snapshot()
    issues = [i for i in state["jira"]["issues"].values() if "cockpit" in i["labels"]]
    assert len(issues) == 1
    assert len([n for n in state["slack"]["channels"] if n.startswith("incident-")]) == 1
    thread = next(
        m
        for m in state["slack"]["channels"]["incidents"]["messages"]
        if "Checkout is failing" in m["text"]
    )
    assert len([m for m in thread["replies"] if m.get("bot_id")]) == 1

    # Ada, the Commander: severity, FIXING, the roles
    ada.actions.set_severity(a_id, Severity.MAJOR)
    ada.actions.set_status(a_id, Status.FIXING)
    ada.actions.assign_roles(a_id, comms="bo")
    await ada.drain()
    await bo.read()
    b_inc = bo.service.get(b_id)
    assert b_inc.severity is Severity.MAJOR
    assert b_inc.status is Status.FIXING
    assert b_inc.roles == {Role.COMMANDER: "ada", Role.COMMS: "bo"}
    fixing = next(e for e in bo.store.timeline(b_id) if e.kind is EntryKind.STATUS)
    assert fixing.author == "ada"
    assert fixing.event_at == ada.service.get(a_id).fixing_at  # its own time

    # Bo, the Communications Officer: a tick and a backdated note; Ada gets them
    bo.actions.tick(b_id, "post-kickoff")
    bo.actions.note(b_id, "payments provider confirms the outage", at="-3m")
    await bo.drain()
    await ada.read()
    assert ada.store.ticks(a_id)["post-kickoff"].ticked
    assert ada.store.ticks(a_id)["post-kickoff"].by == "bo"
    note = next(e for e in ada.store.timeline(a_id) if "payments provider" in e.text)
    mine = next(e for e in bo.store.timeline(b_id) if "payments provider" in e.text)
    assert note.event_at == mine.event_at and note.author == "bo"

    # reading everything again (a cockpit back from a restart) changes nothing
    before_a, before_b = texts(ada, a_id), texts(bo, b_id)
    fresh_a = ChannelWatch(ada.slack, ada.watch.apply)
    again = await fresh_a.read_all([ada.service.get(a_id)])
    again += await ChannelWatch(bo.slack, bo.watch.apply).read_all([bo.service.get(b_id)])
    assert [a.applied for a in again] == [0, 0]
    assert texts(ada, a_id) == before_a and texts(bo, b_id) == before_b

    # both agree on what they hold
    for field in ("status", "severity", "roles", "title", "first_reported_at", "fixing_at"):
        assert getattr(ada.service.get(a_id), field) == getattr(bo.service.get(b_id), field)

    # a race: Ada resolves while Bo (not having read it) moves to MONITORING after her
    ada.actions.set_status(a_id, Status.RESOLVED)
    await ada.drain()
    bo.actions.set_status(b_id, Status.MONITORING)
    await bo.sender.drain()
    # the ticket is Resolved already: Jira refuses Bo's transition, and Bo gives it up
    [refused] = [i for i in bo.actions.outbox(b_id) if i.state.name == "FAILED"]
    assert refused.operation == "jira.transition"
    bo.actions.discard(b_id, refused.id)
    await bo.drain()
    await bo.read()
    await ada.read()
    assert bo.service.get(b_id).status is Status.MONITORING  # the later change holds there
    assert ada.service.get(a_id).status is Status.RESOLVED  # never moved back silently
    [conflict] = ada.team.conflicts(a_id)
    assert conflict.event.data["to"] == "monitoring"
    assert any("not applied here" in t for t in texts(ada, a_id))
    # the ledger keeps every event of the channel once, on both sides (Bo's also holds
    # the raise he joined from, read in the report's thread)
    docs_b = bo.store.docs(b_id, LEDGER_TABLE)
    ids_a = {d["id"] for d in ada.store.docs(a_id, LEDGER_TABLE)}
    raised = {d["id"] for d in docs_b if d["event"]["event_type"] == "cockpit_incident_raised"}
    assert len(raised) == 1 and ids_a == {d["id"] for d in docs_b} - raised
    assert len(ids_a) >= 9  # severity, status, 2 roles' worth, ticks, the note, the race


async def test_severity_entries_read_the_same_in_both_cockpits(
    pair: tuple[Cockpit, Cockpit, SandboxServer],
) -> None:
    ada, bo, server = pair
    link = report(server, "Logins time out for everyone")
    a_id = await raise_or_join(ada, link, "Logins time out")
    await ada.drain()
    b_id = await raise_or_join(bo, link, "Logins broken")
    await bo.drain()

    # unset → Critical, then Critical → Minor: the other cockpit's entries say the same
    ada.actions.set_severity(a_id, Severity.CRITICAL)
    await ada.drain()
    await bo.read()
    ada.actions.set_severity(a_id, Severity.MINOR)
    await ada.drain()
    await bo.read()

    def severities(c: Cockpit, iid: str) -> list[str]:
        return [e.text for e in c.store.timeline(iid) if e.kind is EntryKind.SEVERITY]

    mine = severities(ada, a_id)
    assert mine == ["severity unset → Critical", "severity Critical → Minor"]
    # (the same words; their order may differ: this test's clock runs ahead of Slack's,
    # and an event's time is kept within its message's)
    assert sorted(severities(bo, b_id)) == sorted(mine)
    assert bo.service.get(b_id).severity is Severity.MINOR


async def test_the_team_hears_of_a_change_before_its_jira_write_is_tried(
    pair: tuple[Cockpit, Cockpit, SandboxServer],
) -> None:
    """The team's post of a change goes ahead of the change's write to Jira, which under
    faults may take its timeouts and retries (in tmux under --faults 0.2 FIXING took up to
    27 s to reach the other screen, behind the transition's attempt)."""
    ada, _bo, server = pair
    link = report(server, "Search returns nothing")
    a_id = await raise_or_join(ada, link, "Search down")
    await ada.drain()
    tried = noting_attempts(ada)
    ada.actions.set_status(a_id, Status.FIXING)
    await ada.sender.drain()
    assert tried[0] == "team" and "jira.transition" in tried, tried


async def test_a_burst_of_changes_is_one_post_written_once_and_kept_small(
    pair: tuple[Cockpit, Cockpit, SandboxServer],
) -> None:
    """Ten ticks made at once go as one message; the nine posts that went in it are sent
    in that message's own write (not one write each), and an ended post keeps its text,
    its event type and its message's ts, not its events (the ledger has them): a long
    incident's file stays small. The teammate applies all ten."""
    from cockpit.application.outbox import OUTBOX
    from cockpit.domain.outbox import OutboxState
    from cockpit.domain.team import LEDGER_TABLE
    from cockpit.store.storage import SafeJSONStorage

    ada, bo, server = pair
    a_id, b_id = await both_on(ada, bo, server, "Payments time out")
    status, done = ada.service.get(a_id).status, ada.store.ticks(a_id)
    items = [
        i.id
        for i in ada.service.playbook.items
        if i.tickable(status) and not (i.id in done and done[i.id].ticked)
    ]
    for item_id in items[:10]:
        ada.actions.tick(a_id, item_id, True)
    posts = lambda: [i for i in ada.sender.items(a_id) if is_team_post(i)]  # noqa: E731
    burst = [i for i in posts() if i.state.pending]
    assert len(burst) == 10
    tried = noting_attempts(ada)
    writes: list[str] = []
    commit = SafeJSONStorage._commit

    def counted(storage: SafeJSONStorage, data: Any, **kw: Any) -> None:
        writes.append(storage.path.name)
        commit(storage, data, **kw)

    SafeJSONStorage._commit = counted  # type: ignore[method-assign]
    try:
        await ada.drain()
    finally:
        SafeJSONStorage._commit = commit  # type: ignore[method-assign]
    assert tried == ["team"]
    # coalesced (the nine marked `with` it), sending, posted, sent with the nine: four
    # writes of the incident's file, not four and one for each of the nine
    assert writes.count(f"{a_id}.json") == 4, writes
    ended = {i.id: i for i in posts() if i.id in {b.id for b in burst}}
    assert all(i.state is OutboxState.SENT for i in ended.values())
    assert len({i.remote_id for i in ended.values()}) == 1
    for item in ended.values():
        assert set(item.params) == {"to", "text", "metadata"}
        assert set(item.params["metadata"]) == {"event_type"}
        assert item.params["text"]
    own = [d for d in ada.store.docs(a_id, LEDGER_TABLE) if d.get("marker") in ended]
    assert len(own) == 10  # the events, each marked with its post (its state, its ts)
    assert all(i.remote_id for i in ended.values())
    assert len(ada.store.docs(a_id, OUTBOX)) == len(ada.sender.items(a_id))
    await bo.read()
    ticks = bo.store.ticks(b_id)
    assert all(ticks[i].ticked for i in items[:10]), ticks


async def test_the_team_hears_of_a_change_while_its_jira_write_waits_to_retry(
    pair: tuple[Cockpit, Cockpit, SandboxServer],
) -> None:
    """The severity's write to the ticket refused (a 5xx: tried again after its
    backoff): the team's post of it, queued behind it, goes meanwhile, and Bo has the
    severity before Jira does (in tmux under --faults 0.2 a change took 48 s to reach the
    other screen, waiting behind the retries of a write to Jira)."""
    ada, bo, server = pair
    a_id, b_id = await both_on(ada, bo, server, "Exports stall at 99%")
    key = TeamKey.of(ada.service.get(a_id)).ticket
    server.faults.force("server_error", status=503, on=f"PUT /rest/api/3/issue/{key}", times=20)
    ada.actions.set_severity(a_id, Severity.CRITICAL)
    await ada.sender.drain()
    items = ada.sender.items(a_id)
    [write] = [i for i in items if i.operation == "jira.set_severity"]
    assert write.state is OutboxState.QUEUED and write.attempts == 1  # (waiting its backoff)
    [post] = [i for i in items if is_team_post(i) and i.id > write.id]
    assert post.state is OutboxState.SENT
    await bo.read()
    assert bo.service.get(b_id).severity is Severity.CRITICAL
    server.faults.clear()
    await ada.drain()  # and the ticket's write goes in its turn
    [write] = [i for i in ada.sender.items(a_id) if i.id == write.id]
    assert write.state is OutboxState.SENT

    # a team post waiting to be tried again is not overtaken by the next one: Slack's
    # order settles two changes of one field, and Ada's last is Minor
    server.faults.force("server_error", status=503, on="chat.postMessage")
    ada.actions.set_severity(a_id, Severity.MAJOR)
    ada.actions.set_severity(a_id, Severity.MINOR)
    await ada.sender.drain()
    posts = [i for i in ada.sender.items(a_id) if is_team_post(i) and i.state.pending]
    assert len(posts) == 2 and posts[0].attempts == 1 and posts[1].attempts == 0
    server.faults.clear()
    await ada.drain()
    await bo.read()
    assert bo.service.get(b_id).severity is Severity.MINOR


async def test_the_look_for_a_teammates_raise_is_asked_again_when_refused(
    pair: tuple[Cockpit, Cockpit, SandboxServer],
) -> None:
    """Under faults one refused read of the report's thread had Bo offered to raise anew
    (a second ticket): the look is made again, within a few seconds, like the app's poll
    (one attempt per request: `polling`)."""
    from cockpit.domain.incident import Link

    ada, bo, server = pair
    link = report(server, "Payments stall at the bank's page")
    a_id = await raise_or_join(ada, link, "Payments stall")
    await ada.drain()
    where = thread_of(Link(link))
    assert where is not None

    def looks() -> int:
        return int(server.state.snapshot()["requests"].get("slack:conversations.replies", 0))

    before = looks()
    server.faults.force("server_error", "before", on="conversations.replies")
    server.faults.force("ratelimit", "before", on="conversations.replies", retry_after=1)
    with polling(POLL_DEADLINE):
        found = await bo.watch.look_for_raise(*where, backoff=(0.05, 0.05))
    assert found is not None and found.event.key == TeamKey.of(ada.service.get(a_id))
    assert looks() - before == 3

    # still refused after its attempts: said (the raise dialog shows it), never "not found"
    server.faults.force("server_error", "before", on="conversations.replies", times=3)
    with polling(POLL_DEADLINE), pytest.raises(RemoteError):
        await bo.watch.look_for_raise(*where, backoff=(0.05, 0.05))
    assert looks() - before == 6
    # what cannot succeed (a missing scope) is not asked again
    server.faults.force("slack_error", on="conversations.replies", error="missing_scope")
    with polling(POLL_DEADLINE), pytest.raises(RemoteError):
        await bo.watch.look_for_raise(*where, backoff=(0.05, 0.05))
    assert looks() - before == 7


async def test_nothing_is_shared_before_the_channel_exists(
    pair: tuple[Cockpit, Cockpit, SandboxServer],
) -> None:
    ada, _bo, _server = pair
    done = ada.actions.raise_incident("Search is slow")
    assert done.incident is not None
    iid = done.incident.id
    ada.actions.set_severity(iid, Severity.MINOR)  # (no channel yet: nothing to tell)
    assert ada.store.docs(iid, LEDGER_TABLE) == []
    await ada.drain()
    # once the channel exists, what is held goes out (`test_a_teammate_who_joins_…`)
    first = {d["id"] for d in ada.store.docs(iid, LEDGER_TABLE)}
    shared = {i.id for i in ada.actions.outbox(iid) if "metadata" in i.params}
    ada.actions.set_status(iid, Status.FIXING)
    docs = [d for d in ada.store.docs(iid, LEDGER_TABLE) if d["id"] not in first]
    kinds = sorted(d["event"]["event_type"] for d in docs)
    assert kinds == ["cockpit_item_ticked", "cockpit_status_changed"]
    assert {d["state"] for d in ada.store.docs(iid, LEDGER_TABLE)} == {"own"}
    # queued in the same write as the change, together: one post carries both events
    [post] = [i for i in ada.actions.outbox(iid) if "metadata" in i.params and i.id not in shared]
    assert post.params["to"] == "channel"
    assert post.params["metadata"]["event_type"] == "cockpit_events_shared"
    assert [e["event_type"] for e in post.params["metadata"]["event_payload"]["events"]] == [
        "cockpit_status_changed",
        "cockpit_item_ticked",
    ]
    assert len(post.params["text"].splitlines()) == 2  # a line each, for people


async def test_drafts_status_page_and_hand_offs_converge(
    pair: tuple[Cockpit, Cockpit, SandboxServer],
) -> None:
    """What went out (a message, a status-page update) and who holds a role, told to the
    other cockpit: its timeline at the time it happened, the draft shown as sent by the
    teammate, the status page's incident linked (never a second one opened)."""

    ada, bo, server = pair
    link = report(server, "Card payments fail at checkout")
    a_id = await raise_or_join(ada, link, "Card payments failing")
    await ada.drain()
    b_id = await raise_or_join(bo, link, "Card payments failing")
    await bo.drain()
    ada.actions.set_severity(a_id, Severity.MAJOR)
    ada.actions.assign_roles(a_id, commander="ada", comms="ada")
    await ada.drain()
    await bo.read()
    assert bo.service.get(b_id).roles == {Role.COMMANDER: "ada", Role.COMMS: "ada"}

    # Ada opens the status page's incident
    draft = ada.actions.new_draft(a_id, "statuspage-investigating").draft
    assert draft is not None
    ada.actions.send_draft(a_id, draft.id, components=["Payments"])
    ada.clock.advance(seconds=30)
    await ada.drain()
    page = ada.service.get(a_id).links.status_page
    assert page is not None and page.label
    await bo.read()
    b_inc = bo.service.get(b_id)
    assert b_inc.links.status_page == page  # the same page incident, by its id
    assert b_inc.affected_components == ["Payments"]
    seen = [d for d in bo.service.drafts(b_id) if d.id.startswith("team-")]
    assert [(d.state, d.kind, d.template) for d in seen] == [
        (DraftState.SENT, "statuspage", "statuspage-investigating")
    ]
    assert seen[0].body == draft.body.strip() and "(sent by ada)" in seen[0].target
    sent_b = next(e for e in bo.store.timeline(b_id) if "status-page incident" in e.text)
    sent_a = next(e for e in ada.store.timeline(a_id) if "status-page incident" in e.text)
    # the words and the kind of Ada's own entry, in both timelines
    assert sent_b.author == "ada"
    assert sent_b.text == sent_a.text == "status-page incident opened: investigating (Payments)"
    assert sent_b.kind is sent_a.kind
    assert abs((sent_b.event_at - sent_a.event_at).total_seconds()) < 1  # its own time
    # the checklist item it ticked came with it
    assert bo.store.ticks(b_id)["statuspage-acknowledge"].by == "ada"

    # Ada hands Comms over to Bo; both headers' roles agree
    done = ada.actions.hand_off(a_id, Role.COMMS, "bo")
    assert done.queued
    await ada.drain()
    await bo.read()
    assert bo.service.get(b_id).roles == {Role.COMMANDER: "ada", Role.COMMS: "bo"}
    assert ada.service.get(a_id).roles == bo.service.get(b_id).roles
    handed = [e for e in bo.store.timeline(b_id) if "handed over" in e.text]
    assert len(handed) == 1 and "ada → bo" in handed[0].text and handed[0].author == "ada"

    # Bo, now Comms, sends the next status-page update: it updates Ada's page incident
    update = bo.actions.new_draft(b_id, "statuspage-identified").draft
    assert update is not None
    [item] = [i for i in bo.actions.send_draft(b_id, update.id).queued if "status" in i.params]
    assert item.operation == "statuspage.update"
    # and a message in the channel
    kickoff = bo.actions.new_draft(b_id, "stakeholder-update").draft
    assert kickoff is not None
    bo.actions.send_draft(b_id, kickoff.id)
    bo.clock.advance(seconds=30)
    await bo.drain()
    await ada.read()
    incidents = server.state.snapshot()["statuspage"]["incidents"]
    assert len(incidents) == 1 and incidents[0]["status"] == "identified"
    a_inc = ada.service.get(a_id)
    assert a_inc.links.status_page == page
    mine = {d.id: d for d in ada.service.drafts(a_id)}
    theirs = [d for d in mine.values() if d.id.startswith("team-")]
    assert sorted(d.template for d in theirs) == ["stakeholder-update", "statuspage-identified"]
    assert all(d.state is DraftState.SENT and "(sent by bo)" in d.target for d in theirs)
    msg = next(d for d in theirs if d.template == "stakeholder-update")
    assert msg.body == kickoff.body.strip() and msg.remote_link.startswith("http")
    assert a_inc.last_update_at is not None and a_inc.last_update_at >= sent_a.event_at

    # reading it all again changes nothing (idempotent: no second draft or entry)
    before = texts(ada, a_id), len(ada.service.drafts(a_id))
    again = await ChannelWatch(ada.slack, ada.watch.apply).read_all([a_inc])
    assert [a.applied for a in again] == [0]
    assert (texts(ada, a_id), len(ada.service.drafts(a_id))) == before


async def test_presence_on_the_ticket_says_who_else_has_it_open(
    pair: tuple[Cockpit, Cockpit, SandboxServer],
) -> None:
    """Each cockpit keeps its entry on the ticket's issue property (a GET and a PUT a
    period, nothing on Slack): each sees the other, with the roles held; one that stops
    refreshing is gone after three periods; one that switches away takes its entry off.
    Every exchange is checked against Jira's published spec."""
    from cockpit.application.presence import PresenceLoop
    from cockpit.domain.presence import PERIOD, PROPERTY_KEY
    from cockpit.integrations.jira.client import JiraClient
    from tests import spec_check

    ada, bo, server = pair
    link = report(server, "Login fails for SSO users")
    a_id = await raise_or_join(ada, link, "SSO login failing")
    await ada.drain()
    b_id = await raise_or_join(bo, link, "SSO login failing")
    ada.actions.assign_roles(a_id, commander="ada", comms="bo")
    await ada.drain()
    await bo.read()
    ticket = TeamKey.of(ada.service.get(a_id)).ticket

    exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        exchanges.append((response.request, response))

    loops = {}
    for c in (ada, bo):
        jira = cast(JiraClient, c.clients["jira"])
        jira._http.event_hooks["response"].append(keep)
        loops[c.user] = PresenceLoop(jira, cockpit=c.team.origin, person=c.user, clock=c.clock)
    a_here, b_here = loops["ada"], loops["bo"]
    slack_before = dict(server.state.snapshot()["requests"])

    a_here.show(ada.service.get(a_id))
    b_here.show(bo.service.get(b_id))
    await a_here.refresh()
    await b_here.refresh()
    await a_here.refresh()
    assert [h.label() for h in a_here.others(a_id)] == ["bo (Comms)"]
    assert [h.label(bo.service.get(b_id)) for h in b_here.others(b_id)] == ["ada (IC)"]
    # two requests a refresh, all to Jira: nothing posted or read on Slack for presence
    assert a_here.requests == 4 and b_here.requests == 2
    slack_after = server.state.snapshot()["requests"]
    assert {k: v for k, v in slack_after.items() if k.startswith("slack:")} == {
        k: v for k, v in slack_before.items() if k.startswith("slack:")
    }
    assert slack_after[f"jira:PUT /rest/api/3/issue/{ticket}/properties/{PROPERTY_KEY}"] == 3
    issue = server.state.snapshot()["jira"]["issues"][ticket]
    assert sorted(h["person"] for h in issue["properties"][PROPERTY_KEY]["here"]) == ["ada", "bo"]

    # Bo's cockpit goes quiet (closed, offline): three periods on, Ada no longer shows him
    ada.clock.advance(seconds=3 * PERIOD.total_seconds() + 1)
    await a_here.refresh()
    assert a_here.others(a_id) == []
    issue = server.state.snapshot()["jira"]["issues"][ticket]
    assert [h["person"] for h in issue["properties"][PROPERTY_KEY]["here"]] == ["ada"]

    # Bo is back; Ada switches to another incident: her entry leaves this ticket
    await b_here.refresh()
    other = ada.actions.raise_incident("Search slow").incident
    assert other is not None
    a_here.show(other)  # (no ticket yet: nothing to be present on)
    await a_here.refresh()
    await b_here.refresh()
    assert b_here.others(b_id) == []
    issue = server.state.snapshot()["jira"]["issues"][ticket]
    assert [h["person"] for h in issue["properties"][PROPERTY_KEY]["here"]] == ["bo"]

    assert exchanges and {r.method for r, _ in exchanges} == {"GET", "PUT"}
    for request, response in exchanges:
        spec_check.check_jira(request, response)


async def test_a_status_page_opened_meanwhile_by_a_teammate_is_updated_not_opened_again(
    pair: tuple[Cockpit, Cockpit, SandboxServer],
) -> None:
    ada, bo, server = pair
    link = report(server, "Invoices are not emailed")
    a_id = await raise_or_join(ada, link, "Invoice emails missing")
    await ada.drain()
    b_id = await raise_or_join(bo, link, "Invoice emails missing")
    await bo.drain()
    # both open the status page at once: Bo's create is queued before Ada's event arrives
    a_draft = ada.actions.new_draft(a_id, "statuspage-investigating").draft
    b_draft = bo.actions.new_draft(b_id, "statuspage-investigating").draft
    assert a_draft is not None and b_draft is not None
    ada.actions.send_draft(a_id, a_draft.id, components=["Payments"])
    [b_create] = [
        i for i in bo.actions.send_draft(b_id, b_draft.id).queued if i.draft_id == b_draft.id
    ]
    assert b_create.operation == "statuspage.create"
    await ada.drain()
    await bo.read()  # Ada's page incident linked on Bo's side …
    await bo.drain()  # … so Bo's queued create updates it
    incidents = server.state.snapshot()["statuspage"]["incidents"]
    assert len(incidents) == 1
    page = ada.service.get(a_id).links.status_page
    assert bo.service.get(b_id).links.status_page == page
    sent = next(i for i in bo.actions.outbox(b_id) if i.id == b_create.id)
    assert sent.state.name == "SENT" and page is not None and sent.remote_id == page.label


async def test_a_teammates_changes_keep_the_channel_polled_while_socket_mode_is_up(
    pair: tuple[Cockpit, Cockpit, SandboxServer],
) -> None:
    """Slack hands each of an app's Socket Mode events to one of its connections: with two
    cockpits of one app connected, each gets about one push in two (the drill range's hub
    deals them in turn). A teammate's change seen in the channel keeps the active
    incident's channel polled every few seconds while live, not the safety net's minute."""
    from cockpit.application.runtime import Remote
    from cockpit.integrations.feed import LIVE_PERIOD, SPREAD_PERIOD, FeedPoller
    from cockpit.integrations.socket import SocketStatus

    ada, bo, server = pair
    link = report(server, "Refunds are stuck in pending")
    a_id = await raise_or_join(ada, link, "Refunds stuck")
    await ada.drain()
    b_id = await raise_or_join(bo, link, "Refunds stuck")
    b_inc = bo.service.get(b_id)
    channel = TeamKey.of(b_inc).channel
    assert b_inc.links.channel is not None

    def remote_of(c: Cockpit) -> tuple[Remote, FeedPoller]:
        remote = Remote(
            c.settings, c.store, c.clock, user=c.user, token=TOKENS.get, render=lambda i, t: ""
        )
        poller = FeedPoller(c.slack, lambda _m: None)
        remote.team, remote.poller = c.team, poller
        poller.set_active_channel(b_inc.links.channel.label)
        poller.set_live(True)
        return remote, poller

    remote, poller = remote_of(bo)
    remote._team_channels = {channel: b_id}
    remote._caught_up.add(channel)
    active = poller.channels[b_inc.links.channel.label.lstrip("#")]
    assert poller._period(active, live=True) == LIVE_PERIOD

    async def pushed() -> list[dict[str, Any]]:  # the channel's newest message, as pushed
        page = await bo.slack.messages_since(channel, None, cursor=None, limit=1)
        return page.messages

    # Bo's own change, read back: alone on the incident, Socket Mode stays the way in
    bo.actions.set_severity(b_id, Severity.MINOR)
    await bo.drain()
    remote._incident_messages(channel, await pushed())
    assert not poller.spread and poller._period(active, live=True) == LIVE_PERIOD

    # Ada ticks: her change is applied at once, and the channel keeps its polling pace
    ada.actions.tick(a_id, "post-kickoff")
    await ada.drain()
    remote._incident_messages(channel, await pushed())
    assert bo.store.ticks(b_id)["post-kickoff"].by == "ada"
    assert poller.spread
    assert poller._period(active, live=True) == SPREAD_PERIOD < poller.channel_period
    assert poller._period(active, live=False) == poller.channel_period  # (socket down)
    # (#incidents and the other channels stay on the socket)
    incidents = poller.channels[poller.incidents]
    assert poller._period(incidents, live=True) == LIVE_PERIOD

    # Slack's hello counting another connection of the app says as much
    other, other_poller = remote_of(ada)
    other._socket_status(SocketStatus("connected", num_connections=1))
    assert not other_poller.spread
    other._socket_status(SocketStatus("connected", num_connections=2))
    assert other_poller.spread


async def test_a_teammate_who_joins_holds_what_was_done_before_the_channel_existed(
    pair: tuple[Cockpit, Cockpit, SandboxServer],
) -> None:
    """Nothing is shared before the channel exists: the ticks of the raise (the ticket,
    the thread's link, the channel) and a severity set meanwhile go out once it does, in
    one message, so that Bo, joining, holds Ada's checklist (not 1/30 against her 5/30)."""
    ada, bo, server = pair
    link = report(server, "Invoices are sent twice")
    done = ada.actions.raise_incident("Invoices sent twice", thread=link, reported_at="-10m")
    assert done.incident is not None
    a_id = done.incident.id
    ada.actions.set_severity(a_id, Severity.MAJOR)
    assert ada.store.docs(a_id, LEDGER_TABLE) == []  # (no channel yet)
    posts_before = server.state.snapshot()["requests"].get("slack:chat.postMessage", 0)
    ada.clock.advance(seconds=7)  # (the ticket made a while after the raise)
    await ada.drain()
    held = {i for i, t in ada.store.ticks(a_id).items() if t.ticked}
    assert {"create-ticket", "create-channel"} <= held

    b_id = await raise_or_join(bo, link, "Invoices twice")
    await bo.drain()
    await bo.read()
    assert {i for i, t in bo.store.ticks(b_id).items() if t.ticked} == held
    assert bo.store.ticks(b_id)["create-ticket"].by == "ada"
    # each at its own time in both (the raise's too: when Ada raised it, not the report)
    a_ticks, b_ticks = ada.store.ticks(a_id), bo.store.ticks(b_id)
    assert {i: (t.by, t.at) for i, t in b_ticks.items()} == {
        i: (t.by, t.at) for i, t in a_ticks.items()
    }
    b_inc, a_inc = bo.service.get(b_id), ada.service.get(a_id)
    assert b_ticks["raise-incident"].at == a_inc.created_at != b_inc.first_reported_at
    assert b_inc.acknowledged_at == a_inc.acknowledged_at
    assert b_inc.severity is Severity.MAJOR and b_inc.roles == a_inc.roles

    # two team messages (Slack's one a second per channel): what was held when the channel
    # came to exist goes at once, ahead of the ticket's link to the channel (a write to
    # Jira, which may take its timeouts and retries); what the raise's last steps ticked
    # goes as one more, behind Slack's own reply in the thread
    channel = TeamKey.of(a_inc).channel
    page = await ada.slack.messages_since(channel, None, cursor=None, limit=50)
    shared = [m for m in page.messages if m.get("metadata")]
    assert len(shared) == 2
    events = [e for m in shared for e in m["metadata"]["event_payload"]["events"]]
    ticked = [e["event_payload"]["data"]["item"] for e in events if "ticked" in e["event_type"]]
    assert sorted(ticked) == sorted(held)
    posts = server.state.snapshot()["requests"].get("slack:chat.postMessage", 0) - posts_before
    assert posts == 3  # those two and the reply in the report's thread

    # reading the channel again changes nothing
    assert await bo.read() == [Applied(b_id, 0, [], False)]


async def test_a_draft_posted_by_hand_reaches_the_teammate(
    pair: tuple[Cockpit, Cockpit, SandboxServer],
) -> None:
    """Ada copies a stakeholder update and posts it herself (marked "posted by hand"): the
    draft and its entry are one write, and Bo's cockpit shows it posted by hand, by her."""
    ada, bo, server = pair
    link = report(server, "Mobile logins fail")
    a_id = await raise_or_join(ada, link, "Mobile logins")
    await ada.drain()
    b_id = await raise_or_join(bo, link, "Logins fail")
    await bo.drain()
    draft = ada.actions.new_draft(a_id, "stakeholder-update").draft
    assert draft is not None
    done = ada.actions.sent_by_hand(a_id, draft.id)
    assert done.draft is not None and done.draft.state is DraftState.SENT
    [entry] = [e for e in ada.store.timeline(a_id) if "posted by hand" in e.text]
    assert entry.author == "ada"
    await ada.drain()
    await bo.read()
    [told] = [e for e in bo.store.timeline(b_id) if "posted by hand" in e.text]
    assert told.author == "ada" and told.text.startswith(draft.title)
    [theirs] = [d for d in bo.service.drafts(b_id) if d.id.startswith("team-")]
    assert theirs.state is DraftState.SENT and "(posted by hand by ada)" in theirs.target
    assert theirs.body == draft.body.strip()
    assert bo.service.get(b_id).last_update_at is not None
    await bo.read()  # again: nothing doubled
    assert len([e for e in bo.store.timeline(b_id) if "posted by hand" in e.text]) == 1


async def test_a_refused_catch_up_is_tried_again_in_seconds(
    pair: tuple[Cockpit, Cockpit, SandboxServer],
) -> None:
    """Until a joined incident's channel is caught up (read from its start), the teammate's
    changes pushed or polled there are not applied: a catch-up read Slack refuses (a 429,
    a 502) is tried again in a second, then two, four …, not at the next look 15 s on."""
    from cockpit.application.runtime import TEAM_LOOK_EVERY, Remote

    ada, bo, server = pair
    link = report(server, "Payouts are delayed")
    a_id = await raise_or_join(ada, link, "Payouts delayed")
    await ada.drain()
    b_id = await raise_or_join(bo, link, "Payouts delayed")
    channel = TeamKey.of(bo.service.get(b_id)).channel
    remote = Remote(
        bo.settings, bo.store, bo.clock, user=bo.user, token=TOKENS.get, render=lambda i, t: ""
    )
    remote.team, remote.watch = bo.team, bo.watch
    failures: dict[str, tuple[int, float]] = {}

    # refused twice: each time the next look is due within the backoff, not 15 s on
    server.faults.force("ratelimit", on="conversations.history", times=2, retry_after=None)
    first = await remote._catch_up_round(failures)
    assert 0.7 < first <= 1.2 < TEAM_LOOK_EVERY
    assert channel not in remote._caught_up and failures[channel][0] == 1
    assert await remote._catch_up_round(failures) == pytest.approx(first, abs=0.1)  # not yet
    await asyncio.sleep(first)
    second = await remote._catch_up_round(failures)
    assert 1.5 < second <= 2.4 and failures[channel][0] == 2

    # Ada's severity meanwhile: the read that goes through brings it, and looks are paced
    # by TEAM_LOOK_EVERY again
    ada.actions.set_severity(a_id, Severity.CRITICAL)
    await ada.drain()
    await asyncio.sleep(second)
    assert await remote._catch_up_round(failures) == TEAM_LOOK_EVERY
    assert channel in remote._caught_up and not failures
    assert bo.service.get(b_id).severity is Severity.CRITICAL
    assert not server.faults.pending()


def test_a_catch_up_waits_longer_after_each_failure_and_never_less_than_asked() -> None:
    from cockpit.application.runtime import CATCH_UP_RETRY_MAX, catch_up_retry

    assert [catch_up_retry(n, None, 0.5) for n in range(4)] == [1.0, 2.0, 4.0, 8.0]
    assert catch_up_retry(0, None, 0.0) == pytest.approx(0.8)
    assert catch_up_retry(0, None, 0.999) == pytest.approx(1.2, abs=0.001)
    assert catch_up_retry(30, None, 0.5) == CATCH_UP_RETRY_MAX
    assert catch_up_retry(0, 20.0, 0.5) == 20.0  # a 429's Retry-After is waited out
