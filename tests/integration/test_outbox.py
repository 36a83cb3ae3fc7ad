"""The outbox against the drill range (a real loopback server): each action exactly once,
through faults, interruptions and restarts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from cockpit.application.planner import Planner
from cockpit.application.sender import OutboxSender
from cockpit.application.service import IncidentService
from cockpit.config import Settings, load_settings
from cockpit.domain.clock import FrozenClock, SystemClock
from cockpit.domain.incident import Incident, Status
from cockpit.domain.outbox import OutboxState
from cockpit.domain.playbook import default_playbook
from cockpit.domain.templates import TemplateLibrary
from cockpit.domain.timeline import TimelineEntry
from cockpit.integrations.http import RetryPolicy
from cockpit.integrations.outbox import RemoteActions, build_clients
from cockpit.sandbox.server import SandboxServer
from cockpit.sandbox.tokens import BOT_TOKEN, STATUSPAGE_KEY
from cockpit.store.store import Store

# the drill range's own Slack token and Statuspage key (it refuses others, as the services do)
TOKENS = {"slack": BOT_TOKEN, "jira": "jira-test-token", "statuspage": STATUSPAGE_KEY}


class Rig:
    def __init__(self, tmp: Path, server: SandboxServer) -> None:
        self.server = server
        config = tmp / "config.toml"
        config.write_text(server.config_snippet())
        self.settings: Settings = load_settings(
            config, {"COCKPIT_USER": "ada", "COCKPIT_TIMEZONE": "UTC"}
        )
        self.data = tmp / "data"
        self.clock = FrozenClock(SystemClock().now())
        self.open()

    def open(self) -> None:
        self.store = Store.open(self.data)
        self.service = IncidentService(
            self.store,
            clock=self.clock,
            tz=self.settings.tz,
            user="ada",
            playbook=default_playbook(),
            configured=self.settings.configured,
            templates=TemplateLibrary(None),
        )
        self.clients = build_clients(
            self.settings,
            TOKENS.get,
            timeout=0.6,
            deadline=2.5,
            retry=RetryPolicy(base_delay=0.01, max_delay=0.05, total=3.0),
        )

        def render(incident, template):  # type: ignore[no-untyped-def]
            entries = self.store.timeline(incident.id)
            return self.service.templates.render(
                template, self.service.draft_context(incident, entries)
            )

        self.sender = OutboxSender(
            self.store, RemoteActions(self.clients, render), self.clock, user="ada"
        )
        self.planner = Planner(self.settings.configured)

    async def close(self) -> None:
        await self.clients.aclose()
        self.store.close()

    def report(self, text: str) -> str:
        """A person posts a report in #incidents; returns its permalink."""
        base = self.server.base_url
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

    async def drain_all(self, rounds: int = 200) -> None:
        for _ in range(rounds):
            await self.sender.drain()
            pending = [
                i
                for s in self.store.list_incidents()
                for i in self.sender.items(s.id)
                if i.state.pending
            ]
            if not pending:
                return
            self.clock.advance(seconds=120)  # every backoff has run out
        raise AssertionError(f"still pending after {rounds} rounds: {pending}")

    def state(self) -> dict:  # type: ignore[type-arg]
        return self.server.state.snapshot()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    with SandboxServer(port=0, scenario="quiet", seed=7, fault_delay=1.2) as server:
        r = Rig(tmp_path, server)
        yield r
        await r.close()


def our_issues(state: dict) -> list[dict]:  # type: ignore[type-arg]
    return [i for i in state["jira"]["issues"].values() if "cockpit" in i["labels"]]


def check_raise_chain_end_state(r: Rig, iid: str) -> None:
    state = r.state()
    issues = our_issues(state)
    assert len(issues) == 1, [i["key"] for i in issues]
    issue = issues[0]
    assert "archives/" in str(issue["description"])  # the ticket links the Slack thread
    channels = [n for n in state["slack"]["channels"] if n.startswith("incident-")]
    assert channels == [f"incident-{issue['key'].split('-')[1]}"]
    assert len(issue["remote_links"]) == 1
    assert channels[0] in str(issue["remote_links"])
    report = next(
        m
        for m in state["slack"]["channels"]["incidents"]["messages"]
        if "Checkout is failing" in m["text"]
    )
    replies = [m for m in report["replies"] if m.get("bot_id")]
    assert len(replies) == 1, replies
    assert f"#{channels[0]}" in replies[0]["text"] and issue["key"] in replies[0]["text"]
    inc = r.service.get(iid)
    assert inc.links.ticket is not None and inc.links.ticket.label == issue["key"]
    assert inc.links.channel is not None and inc.links.channel.label == f"#{channels[0]}"
    assert inc.acknowledged_at is not None
    ticks = r.store.ticks(iid)
    for item in ("create-ticket", "create-channel", "reply-in-thread"):
        assert ticks[item].ticked, item
    items = r.sender.items(iid)
    assert [i.state for i in items] == [OutboxState.SENT] * len(items)
    texts = [e.text for e in r.store.timeline(iid)]
    assert any(f"ticket {issue['key']} created" in t for t in texts)
    assert len([t for t in texts if "channel #incident-" in t]) == 1


async def test_raise_chain_against_the_drill_range(rig: Rig):
    thread = rig.report("Checkout is failing for a lot of buyers")
    inc = rig.service.raise_incident("Checkout payments failing", thread=thread, acknowledge=False)
    rig.sender.enqueue(rig.planner.raise_chain(inc, rig.clock.now()))
    await rig.drain_all()
    check_raise_chain_end_state(rig, inc.id)


# the request that makes each raise-chain item's effect
EFFECT = {
    "jira.create_issue": "POST /rest/api/3/issue",
    "slack.create_channel": "conversations.create",
    "jira.remote_link": "POST /rest/api/3/issue/*/remotelink",
    "slack.post": "chat.postMessage",
}


async def test_interrupted_after_the_effect_is_not_sent_twice(rig: Rig):
    """The request left and the effect happened, but cockpit died before writing SENT:
    after a restart the item is found on the remote system, not sent again."""
    thread = rig.report("Checkout is failing for a lot of buyers")
    inc = rig.service.raise_incident("Checkout payments failing", thread=thread, acknowledge=False)
    rig.sender.enqueue(rig.planner.raise_chain(inc, rig.clock.now()))
    uncertain = 0
    for n in range(len(rig.sender.items(inc.id))):
        # the answer to this attempt's request with an effect is lost (the reads before it,
        # such as Jira's createmeta, are answered)
        effect = EFFECT[rig.sender.items(inc.id)[n].operation]
        rig.server.faults.force("drop", "after", on=effect)
        if not await rig.sender.attempt(rig.sender.items(inc.id)[n]):
            item = rig.sender.items(inc.id)[n]
            assert item.state is OutboxState.QUEUED and item.uncertain, item
            uncertain += 1
            # "kill" and restart: a new store, clients and sender on the same data
            await rig.close()
            rig.open()
            rig.clock.advance(seconds=120)
            assert await rig.sender.attempt(rig.sender.items(inc.id)[n])
        # (an idempotent call, such as the remote link, is simply repeated by the client)
        assert rig.sender.items(inc.id)[n].state is OutboxState.SENT
    assert uncertain >= 3  # ticket, channel and reply each went through the check
    check_raise_chain_end_state(rig, inc.id)


async def test_killed_while_sending_resumes_exactly_once(rig: Rig):
    """A SENDING item found at start-up (cockpit was killed mid-request) is checked first."""
    thread = rig.report("Checkout is failing for a lot of buyers")
    inc = rig.service.raise_incident("Checkout payments failing", thread=thread, acknowledge=False)
    rig.sender.enqueue(rig.planner.raise_chain(inc, rig.clock.now()))
    first = rig.sender.items(inc.id)[0]
    # what a kill between "request sent" and "answer written" leaves behind:
    outcome = await rig.sender.actions.perform(
        first.sending(at=rig.clock.now()), rig.service.get(inc.id)
    )
    assert outcome.remote_id.startswith("INCIDENT-")
    rig.store.put_doc(inc.id, "outbox", first.sending(at=rig.clock.now()).to_dict())
    await rig.close()
    rig.open()
    await rig.drain_all()
    check_raise_chain_end_state(rig, inc.id)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_thirty_percent_faults_same_end_state(tmp_path: Path, seed: int):
    with SandboxServer(port=0, scenario="quiet", faults=0.3, seed=seed, fault_delay=1.0) as server:
        rig = Rig(tmp_path, server)
        server.faults.probability = 0.0  # the reporter's own post is not under test
        thread = rig.report("Checkout is failing for a lot of buyers")
        server.faults.probability = 0.3
        inc = rig.service.raise_incident(
            "Checkout payments failing", thread=thread, acknowledge=False
        )
        rig.sender.enqueue(rig.planner.raise_chain(inc, rig.clock.now()))
        rig.service.set_status(inc.id, Status.FIXING)
        await rig.drain_all()
        fresh = rig.service.get(inc.id)
        rig.sender.enqueue(
            rig.planner.for_action("mark-fixing", fresh, rig.clock.now(), item_id="mark-fixing")
        )
        rig.sender.enqueue(
            rig.planner.for_action("post-kickoff", fresh, rig.clock.now(), item_id="post-kickoff")
        )
        await rig.drain_all()
        state = rig.state()
        assert state["faults_injected"], "the run should have met some faults"
        print(f"seed {seed}: {len(state['faults_injected'])} faults injected")
        server.faults.probability = 0.0
        failed = [
            (i.title, i.reason) for i in rig.sender.items(inc.id) if i.state is not OutboxState.SENT
        ]
        assert not failed, failed
        check_raise_chain_end_state(rig, inc.id)
        issue = our_issues(state)[0]
        assert issue["status"].upper() == "FIXING"
        channel = next(n for n in state["slack"]["channels"] if n.startswith("incident-"))
        ours = [
            m
            for m in state["slack"]["channels"][channel]["messages"]
            if m.get("bot_id") and m.get("metadata")
        ]
        assert len(ours) == 1, ours  # the kick-off, once
        await rig.close()


async def test_a_refused_action_fails_with_the_reason_and_holds_the_queue(rig: Rig):
    inc = rig.service.raise_incident("Checkout payments failing", acknowledge=False)
    # a reply in a thread that does not exist: nowhere to post, said plainly
    rig.sender.enqueue(rig.planner.for_action("reply-in-thread", inc, rig.clock.now()))
    rig.sender.enqueue(rig.planner.for_action("create-ticket", inc, rig.clock.now()))
    await rig.sender.drain()
    first, second = rig.sender.items(inc.id)
    assert first.state is OutboxState.FAILED and "no Slack thread" in first.reason
    assert second.state is OutboxState.QUEUED  # held back behind the failure
    rig.sender.discard(inc.id, first.id)
    await rig.drain_all()
    assert rig.sender.items(inc.id)[1].state is OutboxState.SENT
    assert len(our_issues(rig.state())) == 1


async def test_statuspage_lifecycle_through_drafts(rig: Rig):
    inc = rig.service.raise_incident("Checkout payments failing")

    def payments(incident: Incident) -> list[TimelineEntry]:
        incident.affected_components = ["Payments"]
        return []

    rig.service.update(inc.id, payments)
    for template in ("statuspage-investigating", "statuspage-identified", "statuspage-resolved"):
        draft = rig.service.new_draft(inc.id, template)
        items = rig.planner.for_draft(draft, rig.service.get(inc.id), rig.clock.now())
        assert items, template
        rig.sender.enqueue(items)
        await rig.drain_all()
    state = rig.state()["statuspage"]
    assert len(state["incidents"]) == 1
    sp = state["incidents"][0]
    assert sp["status"] == "resolved"
    assert {u["status"] for u in sp["incident_updates"]} >= {
        "investigating",
        "identified",
        "resolved",
    }
    assert state["components"]["Payments"] == "operational"
    drafts = rig.service.drafts(inc.id)
    assert all(d.state.value == "sent" for d in drafts)
    assert rig.service.get(inc.id).links.status_page is not None


async def test_escalation_invites_the_point_people_and_tells_them(rig: Rig):
    from cockpit.config import EscalationTarget

    thread = rig.report("Checkout is failing for a lot of buyers")
    inc = rig.service.raise_incident("Checkout payments failing", thread=thread, acknowledge=False)
    rig.sender.enqueue(rig.planner.raise_chain(inc, rig.clock.now()))
    await rig.drain_all()
    target = EscalationTarget(
        system="payments",
        name="Payments",
        slack_ids=("U0SBXBENJI1",),
        contacts=("Benji",),
        links=("https://wiki.example.com/payments-runbook",),
    )
    rig.sender.enqueue(rig.planner.escalate(rig.service.get(inc.id), target, rig.clock.now()))
    await rig.drain_all()
    state = rig.state()
    channel = next(c for n, c in state["slack"]["channels"].items() if n.startswith("incident-"))
    assert "U0SBXBENJI1" in channel["members"]
    posted = [m for m in channel["messages"] if m.get("bot_id") and "<@U0SBXBENJI1>" in m["text"]]
    assert len(posted) == 1
    assert "Payments" in posted[0]["text"] and "payments-runbook" in posted[0]["text"]
    assert rig.store.ticks(inc.id)["escalate"].ticked


async def test_an_item_written_before_steps_resumes_and_finishes_every_step(rig: Rig):
    """An item from before the steps (no "done" note) left uncertain after its channel was
    made: the channel is found, not made again, and its topic is still set."""
    import msgspec

    inc = rig.service.raise_incident("Checkout payments failing")
    (item,) = rig.planner.for_action("create-channel", inc, rig.clock.now())[:1]
    with httpx.Client() as c:  # what the old sender did before its set_topic failed
        made = c.post(
            f"{rig.server.base_url}/api/conversations.create",
            headers={"Authorization": f"Bearer {TOKENS['slack']}"},
            json={"name": f"incident-{inc.id}"},
        ).json()
        assert made["ok"], made
    old = msgspec.structs.replace(item, uncertain=True, attempts=1).to_dict()
    del old["notes"]
    rig.store.put_doc(inc.id, "outbox", old)
    await rig.drain_all()
    (sent,) = rig.sender.items(inc.id)
    assert sent.state is OutboxState.SENT and set(sent.done_steps) == {"create", "topic"}
    channels = {n: ch for n, ch in rig.state()["slack"]["channels"].items() if "incident-" in n}
    assert list(channels) == [f"incident-{inc.id}"]
    assert "Checkout payments failing" in channels[f"incident-{inc.id}"]["topic"]
