"""A move to Jira whose answer was lost, then undone in Jira before cockpit tried again:
the retry finds its move in the ticket's changelog and does not make it a second time
(which would undo the person's move). Against the drill range behind the fault proxy."""

from __future__ import annotations

from pathlib import Path

import httpx

from cockpit.domain.clock import SystemClock
from cockpit.domain.outbox import OutboxState
from cockpit.sandbox.dispatch import IN_PROCESS_URL
from cockpit.sandbox.server import SandboxServer
from tests.integration.faultproxy import FaultProxy
from tests.integration.test_exactly_once import TOKENS, Rig, _raise_fault_free, _ticket


def move(r: Rig, key: str, to: str) -> None:
    """A person moves the ticket in Jira (the transition that leads to `to`)."""
    assert r.settings.jira is not None
    with httpx.Client(
        base_url=IN_PROCESS_URL, transport=r.transport, auth=(r.settings.jira.email, TOKENS["jira"])
    ) as c:
        offered = c.get(f"/rest/api/3/issue/{key}/transitions").json()["transitions"]
        [t] = [t for t in offered if t["to"]["name"] == to]
        c.post(f"/rest/api/3/issue/{key}/transitions", json={"transition": {"id": t["id"]}})


async def test_a_lost_move_undone_in_jira_is_not_made_again(tmp_path: Path) -> None:
    proxy = FaultProxy(SandboxServer(scenario=None, socket_mode=False, lenient=True))
    r = Rig(tmp_path, proxy)
    try:
        iid = (await _raise_fault_free(r))["iid"]
        now = SystemClock().now  # items queued at the time Jira's changelog is kept in
        r.enqueue(r.planner.for_action("mark-fixing", r.service.get(iid), now()))
        await r.drain()
        key = r.service.get(iid).links.ticket.label  # type: ignore[union-attr]
        assert _ticket(r.state())["status"] == "Fixing"

        # our move to Monitoring is made, and its answer lost on the way back
        proxy.fail("jira:POST */transitions", "server_error", when="after")
        [item] = r.planner.for_action("mark-monitoring", r.service.get(iid), now())
        r.enqueue([item])
        await r.sender.attempt(item)
        assert _ticket(r.state())["status"] == "Monitoring"
        [kept] = [i for i in r.sender.items(iid) if i.id == item.id]
        assert kept.state.pending  # not known to be done: it will be checked, then retried

        # before cockpit tries again, a person moves the ticket back in Jira
        move(r, key, "Fixing")
        r.clock.advance(seconds=120)
        await r.drain()
        ticket = _ticket(r.state())
        assert ticket["status"] == "Fixing"  # the person's move stands
        assert [h["to"] for h in ticket["history"]].count("Monitoring") == 1
        [done] = [i for i in r.sender.items(iid) if i.id == item.id]
        assert done.state is OutboxState.SENT
    finally:
        await r.close()


async def test_a_move_never_made_is_still_made(tmp_path: Path) -> None:
    """The refusal came before the effect: the changelog has no such move, so it is sent."""
    proxy = FaultProxy(SandboxServer(scenario=None, socket_mode=False, lenient=True))
    r = Rig(tmp_path, proxy)
    try:
        iid = (await _raise_fault_free(r))["iid"]
        now = SystemClock().now
        r.enqueue(r.planner.for_action("mark-fixing", r.service.get(iid), now()))
        await r.drain()
        proxy.fail("jira:POST */transitions", "server_error", when="before")
        [item] = r.planner.for_action("mark-monitoring", r.service.get(iid), now())
        r.enqueue([item])
        await r.sender.attempt(item)
        assert _ticket(r.state())["status"] == "Fixing"
        r.clock.advance(seconds=120)
        await r.drain()
        assert _ticket(r.state())["status"] == "Monitoring"
    finally:
        await r.close()
