"""From the tracker: a status or priority changed in Jira itself (through the drill range's
REST API, as a person in Jira's UI would) is seen by the cockpit and applied when legal,
kept as a conflict when not; the cockpit's own transitions never come back as news."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from cockpit.application.tracker import (
    TrackerApplied,
    TrackerMap,
    TrackerSync,
    TrackerWatch,
    watched_tickets,
)
from cockpit.domain.incident import Severity, Status
from cockpit.domain.outbox import OutboxState
from cockpit.domain.team import TeamKey
from cockpit.domain.timeline import EntryKind
from cockpit.integrations.jira.client import JiraClient
from cockpit.sandbox.server import SandboxServer
from tests.integration.test_two_responders import Cockpit, raise_or_join, report


class Tracked:
    """A cockpit with its tracker watch (no confirmation wait: two reads confirm)."""

    def __init__(self, c: Cockpit, *, team: bool = False) -> None:
        """`team`: changes applied from Jira are told in the channel (as in the app)."""
        self.c = c
        jira = c.settings.jira
        assert jira is not None
        self.sync = TrackerSync(
            c.service, TrackerMap.of_settings(jira), team=c.team if team else None
        )

        async def apply(iid: str, state: Any) -> TrackerApplied:
            return self.sync.apply(iid, state)

        async def pending(iid: str, state: Any) -> bool:
            return self.sync.pending(iid, state)

        self.client = cast(JiraClient, c.clients["jira"])
        self.watch = TrackerWatch(
            self.client, apply, pending, severity_field=jira.severity_field, confirm=0.0
        )

    def tickets(self) -> dict[str, str]:
        return watched_tickets(self.c.store, self.c.clock.now())

    async def read(self) -> list[TrackerApplied]:
        return await self.watch.read(self.tickets())

    async def read_twice(self) -> list[TrackerApplied]:
        """A change is applied once a second read confirms it."""
        return [*(await self.read()), *(await self.read())]


def jira_call(server: SandboxServer, method: str, path: str, body: Any = None) -> Any:
    """A person in Jira: the drill range's REST API with another user's token."""
    with httpx.Client(base_url=server.base_url, auth=("priya@drill-range.example", "x")) as c:
        r = c.request(method, f"/rest/api/3/{path}", json=body)
        assert r.status_code < 300, r.text
        return r.json() if r.content else None


def move_in_jira(server: SandboxServer, key: str, transition: str) -> None:
    offered = jira_call(server, "GET", f"issue/{key}/transitions")["transitions"]
    chosen = next(t for t in offered if t["name"] == transition)
    body: dict[str, Any] = {"transition": {"id": chosen["id"]}}
    if transition in ("RESOLVED", "CANCELED"):
        body["fields"] = {"resolution": {"name": "Done"}}
    jira_call(server, "POST", f"issue/{key}/transitions", body)


@pytest.fixture
async def one(tmp_path: Path):  # type: ignore[no-untyped-def]
    with SandboxServer(port=0, scenario="quiet", seed=5, lenient=True, search_lag=0) as server:
        from cockpit.domain.clock import FrozenClock, SystemClock

        c = Cockpit(tmp_path, server, "ada", FrozenClock(SystemClock().now()))
        yield Tracked(c), server
        await c.close()


async def raised(t: Tracked, server: SandboxServer) -> tuple[str, str]:
    link = report(server, "Search returns nothing for every query")
    done = t.c.actions.raise_incident("Search is down", thread=link, reported_at="-20m")
    assert done.incident is not None
    await t.c.drain()
    key = TeamKey.of(t.c.service.get(done.incident.id)).ticket
    assert key
    return done.incident.id, key


async def test_own_changes_never_echo_and_jira_changes_apply(one: tuple[Tracked, Any]) -> None:
    t, server = one
    iid, key = await raised(t, server)
    assert await t.read_twice() and t.c.service.get(iid).status is Status.REPORTED

    # this cockpit's own moves, sent: read back, they are no news
    t.c.actions.set_severity(iid, Severity.CRITICAL)
    t.c.actions.set_status(iid, Status.FIXING)
    held = await t.read()  # (its writes are still queued: not judged)
    assert [r.applied for r in held] == [[]]
    await t.c.drain()
    before = len(t.c.store.timeline(iid))
    for r in await t.read_twice():
        assert not r.applied and not r.conflicts
    assert len(t.c.store.timeline(iid)) == before
    assert not [e for e in t.c.store.timeline(iid) if e.author == "Jira"]

    # someone moves the ticket to Monitoring and lowers its priority in Jira
    move_in_jira(server, key, "MONITORING")
    jira_call(server, "PUT", f"issue/{key}", {"fields": {"priority": {"name": "High"}}})
    t.c.clock.advance(seconds=30)  # (this cockpit's clock is not behind Jira's)
    first = await t.read()
    assert first == []  # seen once: confirmed at the next read
    assert t.c.service.get(iid).status is Status.FIXING
    [done] = await t.read()
    assert len(done.applied) == 2 and done.changed
    inc = t.c.service.get(iid)
    assert inc.status is Status.MONITORING
    assert inc.severity is Severity.MAJOR
    [status] = [
        e for e in t.c.store.timeline(iid) if e.author == "Jira" and e.kind is EntryKind.STATUS
    ]
    assert status.text.startswith("Jira: status changed to MONITORING (by Jira")
    issue = server.state.issue(key)
    assert issue is not None
    assert abs(status.event_at.timestamp() - issue.updated) < 1.0  # when Jira says
    assert inc.mitigated_at == status.event_at
    # read again: nothing more (applied once)
    for r in await t.read_twice():
        assert not r.applied
    assert len([e for e in t.c.store.timeline(iid) if e.author == "Jira"]) == 2


async def test_a_failed_move_of_ours_does_not_undo_a_move_made_in_jira(
    one: tuple[Tracked, Any],
) -> None:
    """Ours to MONITORING failed (Jira refused it) and waits for the person; meanwhile the
    ticket was moved in Jira and that move is applied here: ours is discarded with why,
    not left to be retried over it, and what was queued behind it goes."""
    t, server = one
    server.state.clock = lambda: t.c.clock.now().timestamp()  # (Jira's times: this clock)
    iid, key = await raised(t, server)
    t.c.actions.set_status(iid, Status.FIXING)
    await t.c.drain()
    await t.read_twice()  # (the baseline: FIXING, ours)
    server.faults.force("status", status=400, on=f"POST /rest/api/3/issue/{key}/transitions")
    t.c.actions.set_status(iid, Status.MONITORING, reason="rolled back")
    for _ in range(5):
        await t.c.sender.drain()
    [failed] = [i for i in t.c.sender.items(iid) if i.state is OutboxState.FAILED]
    assert failed.operation == "jira.transition" and failed.params["to"] == "monitoring"
    t.c.actions.note(iid, "checking the rollback")  # (queued behind it, for the team)
    # someone resolves it in Jira; then this cockpit reads the ticket
    t.c.clock.advance(seconds=30)
    move_in_jira(server, key, "RESOLVED")
    t.c.clock.advance(seconds=30)
    results = await t.read_twice()
    assert [a for r in results for a in r.applied], results
    assert t.c.service.get(iid).status is Status.RESOLVED
    [gone] = [i for i in t.c.sender.items(iid) if i.id == failed.id]
    assert gone.state is OutboxState.DISCARDED
    assert gone.reason == f"not sent: {key} was moved to RESOLVED in Jira meanwhile"
    await t.c.drain()  # nothing blocks the rest now
    issue = server.state.issue(key)
    assert issue is not None and issue.status.casefold() == "resolved"


async def test_an_illegal_move_in_jira_is_a_conflict(one: tuple[Tracked, Any]) -> None:
    t, server = one
    iid, key = await raised(t, server)
    t.c.actions.set_status(iid, Status.FIXING)
    t.c.actions.set_status(iid, Status.RESOLVED)
    await t.c.drain()
    await t.read_twice()
    # reopened in Jira: a RESOLVED incident cannot go back here
    move_in_jira(server, key, "REOPEN")
    results = await t.read_twice()
    assert [c for r in results for c in r.conflicts]
    assert t.c.service.get(iid).status is Status.RESOLVED
    assert t.c.team is not None
    [conflict] = t.c.team.conflicts(iid)
    assert conflict.event.by == "Jira" and conflict.event.data["to"] == "reported"
    assert "RESOLVED here" in conflict.conflict
    assert any("not applied here" in e.text for e in t.c.store.timeline(iid))
    t.c.team.settle(iid, conflict.event.id)
    assert t.c.team.conflicts(iid) == []
    for r in await t.read_twice():  # said once
        assert not r.conflicts
    # an ended incident's ticket is watched for a day after its end, then no more
    assert t.tickets() == {key: iid}
    t.c.clock.advance(hours=25)
    assert t.tickets() == {}


async def test_a_status_changed_in_jira_reaches_both_cockpits(tmp_path: Path) -> None:
    """Found in tmux with two responders: a move made in Jira reached Bo only; Ada's own
    write to the ticket was still going, so her tracker held its judgement (rightly: the
    ticket may be behind her). The cockpit that applies a change from Jira tells it in the
    channel as the event every cockpit that reads it makes (one id): Ada gets it from
    there, and both timelines end with the same entry, once."""
    from cockpit.domain.clock import FrozenClock, SystemClock

    with SandboxServer(port=0, scenario="quiet", seed=5, lenient=True, search_lag=0) as server:
        clock = FrozenClock(SystemClock().now())
        ada_c, bo_c = (
            Cockpit(tmp_path, server, "ada", clock),
            Cockpit(tmp_path, server, "bo", clock),
        )
        try:
            ada, bo = Tracked(ada_c, team=True), Tracked(bo_c, team=True)
            link = report(server, "Search returns nothing for every query")
            a_id = await raise_or_join(ada_c, link, "Search is down")
            await ada_c.drain()
            b_id = await raise_or_join(bo_c, link, "Search broken")
            await bo_c.drain()
            key = TeamKey.of(ada_c.service.get(a_id)).ticket
            ada_c.actions.set_status(a_id, Status.FIXING)
            ada_c.actions.set_status(a_id, Status.MONITORING)
            await ada_c.drain()
            await bo_c.read()
            assert bo_c.service.get(b_id).status is Status.MONITORING
            await ada.read_twice()
            await bo.read_twice()

            # Ada's write to the ticket is going (Jira refuses it for now) when someone
            # moves the ticket back to Fixing in Jira
            server.faults.force("server_error", on="PUT /rest/api/3/issue/*", times=50)
            ada_c.actions.set_severity(a_id, Severity.CRITICAL)
            await ada_c.sender.drain()
            move_in_jira(server, key, "FIXING")
            clock.advance(seconds=30)
            assert not [r for r in await ada.read_twice() if r.applied]  # held
            assert ada_c.service.get(a_id).status is Status.MONITORING
            [done] = await bo.read_twice()
            assert done.applied and bo_c.service.get(b_id).status is Status.FIXING
            await bo_c.drain()  # Bo tells it in the channel
            await ada_c.read()
            assert ada_c.service.get(a_id).status is Status.FIXING

            # Ada's write goes at last: her tracker reads the ticket as she holds it
            server.faults.clear()
            await ada_c.drain()
            await bo_c.read()
            for r in [*(await ada.read_twice()), *(await bo.read_twice())]:
                assert not r.applied and not r.conflicts

            # Monitoring again in Jira: both read it (neither held) and both tell it
            move_in_jira(server, key, "MONITORING")
            clock.advance(seconds=30)
            [a_done], [b_done] = await ada.read_twice(), await bo.read_twice()
            assert a_done.applied and b_done.applied
            await ada_c.drain()
            await bo_c.read()  # Ada's post of it is read before Bo's cockpit sends its own
            await bo_c.drain()
            await ada_c.read()
            await bo_c.read()
            # told in the channel once: Bo's post of the same event was not sent
            said = [
                m["text"]
                for ch in server.state.snapshot()["slack"]["channels"].values()
                for m in ch["messages"]
                if f"({key} is Monitoring)" in m.get("text", "")
            ]
            assert len(said) == 1, said
            [dropped] = [i for i in bo_c.sender.items(b_id) if i.state is OutboxState.DISCARDED]
            assert dropped.reason == "not sent: a teammate's cockpit told the channel already"

            def from_jira(c: Cockpit, iid: str) -> list[tuple[str, str, str]]:
                entries = c.store.timeline(iid)
                return [
                    (e.id, e.text, e.event_at.isoformat()) for e in entries if e.author == "Jira"
                ]

            mine, his = from_jira(ada_c, a_id), from_jira(bo_c, b_id)
            assert len(mine) == 2 and mine == his
            assert mine[0][1] == f"MONITORING → FIXING: changed in Jira ({key} is Fixing)"
            for field in ("status", "severity", "fixing_at", "mitigated_at"):
                assert getattr(ada_c.service.get(a_id), field) == getattr(
                    bo_c.service.get(b_id), field
                )
            assert ada_c.service.get(a_id).status is Status.MONITORING
            assert not ada_c.team.conflicts(a_id) and not bo_c.team.conflicts(b_id)  # type: ignore[union-attr]
        finally:
            await ada_c.close()
            await bo_c.close()
