"""The status page end to end against the drill range: the person picks the affected
components when sending, the page's components follow the incident (degraded, then
operational again), the impact comes from the severity, and the plan says whether
subscribers are told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cockpit.application.actions import IncidentActions
from cockpit.domain.incident import Severity, Status
from cockpit.sandbox.server import SandboxServer
from tests.integration.test_outbox import Rig


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    with SandboxServer(port=0, scenario="quiet", seed=11) as server:
        r = Rig(tmp_path, server)
        yield r
        await r.close()


def page(rig: Rig) -> dict[str, Any]:
    state: dict[str, Any] = rig.state()["statuspage"]
    return state


async def test_components_degrade_then_come_back(rig: Rig) -> None:
    actions = IncidentActions(rig.service, calendar=rig.settings.support.calendar())
    inc = actions.raise_incident("Checkout payments failing", severity=Severity.CRITICAL).incident
    assert inc is not None
    await rig.drain_all()
    assert page(rig)["components"]["Payments"] == "operational"

    draft = rig.service.new_draft(inc.id, "statuspage-investigating")
    planned = actions.planner.for_draft(  # type: ignore[union-attr]
        draft, rig.service.get(inc.id), rig.clock.now(), components=["Payments"]
    )
    assert planned[0].title == (
        "Open the status-page incident: investigating "
        "(Payments: major outage; subscribers notified)"
    )
    done = actions.send_draft(inc.id, draft.id, components=["Payments", " Payments "])
    assert done.queued[0].params["components"] == ["Payments"]
    assert rig.service.get(inc.id).affected_components == ["Payments"]
    await rig.drain_all()
    sp = page(rig)
    assert sp["components"]["Payments"] == "major_outage"
    assert sp["components"]["Search"] == "operational"
    (opened,) = sp["incidents"]
    assert opened["name"] == "Problems with Payments"
    assert opened["impact"] == "critical"
    assert opened["incident_updates"][0]["deliver_notifications"] is True

    # the next update: prefilled from the incident (no pick given)
    draft = rig.service.new_draft(inc.id, "statuspage-identified")
    assert "Payments" in draft.body
    done = actions.send_draft(inc.id, draft.id)
    assert done.queued[0].title == (
        "Status page: identified (Payments: major outage; subscribers notified)"
    )
    await rig.drain_all()
    assert page(rig)["components"]["Payments"] == "major_outage"

    draft = rig.service.new_draft(inc.id, "statuspage-resolved")
    done = actions.send_draft(inc.id, draft.id)
    assert done.queued[0].title == (
        "Status page: resolved (Payments: operational; subscribers notified)"
    )
    await rig.drain_all()
    sp = page(rig)
    assert sp["components"]["Payments"] == "operational"
    (resolved,) = sp["incidents"]
    assert resolved["status"] == "resolved"
    assert resolved["impact"] == "critical"  # what it was, kept for the record
    changes = [
        (c["name"], c["old_status"], c["new_status"])
        for u in reversed(resolved["incident_updates"])
        for c in u["affected_components"]
    ]
    assert changes[0] == ("Payments", "operational", "major_outage")
    assert changes[-1] == ("Payments", "major_outage", "operational")
    assert all(u["deliver_notifications"] for u in resolved["incident_updates"])


async def test_a_minor_incident_degrades_performance_only(rig: Rig) -> None:
    actions = IncidentActions(rig.service, calendar=rig.settings.support.calendar())
    inc = actions.raise_incident("Search is slow", severity=Severity.MINOR).incident
    assert inc is not None
    draft = rig.service.new_draft(inc.id, "statuspage-investigating")
    actions.send_draft(inc.id, draft.id, components=["Search"])
    await rig.drain_all()
    sp = page(rig)
    assert sp["components"]["Search"] == "degraded_performance"
    assert sp["incidents"][0]["impact"] == "minor"


async def test_an_update_sent_while_the_opening_is_uncertain_updates_it(rig: Rig) -> None:
    """The create's answer is lost after the effect (the incident is open on the page,
    cockpit does not know its id yet) and the person sends the next update meanwhile:
    it goes behind the create and updates that incident; the page never gets two."""
    actions = IncidentActions(rig.service, calendar=rig.settings.support.calendar())
    inc = actions.raise_incident("Checkout payments failing", severity=Severity.CRITICAL).incident
    assert inc is not None
    await rig.drain_all()
    rig.server.faults.force("timeout", "after", on="POST /v1/pages/*/incidents")
    first = rig.service.new_draft(inc.id, "statuspage-investigating")
    opening, link_it = actions.send_draft(inc.id, first.id, components=["Payments"]).queued
    assert (opening.operation, link_it.operation) == ("statuspage.create", "jira.remote_link")
    assert not await rig.sender.attempt(opening)
    (waiting,) = [i for i in rig.sender.items(inc.id) if i.id == opening.id]
    assert waiting.uncertain and rig.service.get(inc.id).links.status_page is None
    assert len(page(rig)["incidents"]) == 1  # the effect happened

    resolved = rig.service.new_draft(inc.id, "statuspage-resolved")
    planner = actions.planner.expecting(frozenset({"status_page"}))  # type: ignore[union-attr]
    planned = planner.for_draft(resolved, rig.service.get(inc.id), rig.clock.now())
    assert [i.operation for i in planned] == ["statuspage.update"]
    (update,) = actions.send_draft(inc.id, resolved.id).queued
    assert update.operation == "statuspage.update"
    assert update.title == "Status page: resolved (Payments: operational; subscribers notified)"
    rig.clock.advance(seconds=120)
    await rig.drain_all()
    (only,) = page(rig)["incidents"]
    assert only["status"] == "resolved"
    assert [u["status"] for u in only["incident_updates"]] == ["resolved", "investigating"]
    link = rig.service.get(inc.id).links.status_page
    assert link is not None and link.label == only["id"]


async def test_steps_taken_before_the_ticket_exists_reach_it(rig: Rig) -> None:
    """FIXING and the severity set while the ticket's create is still waiting (queued,
    or its answer lost): the transition and the priority go behind the create and reach
    the ticket once it is there, instead of being left out because it had no key yet."""
    actions = IncidentActions(rig.service, calendar=rig.settings.support.calendar())
    rig.server.faults.force("timeout", "after", on="POST /rest/api/3/issue")
    inc = actions.raise_incident("Checkout payments failing").incident
    assert inc is not None
    (create, *_) = rig.sender.items(inc.id)
    assert create.operation == "jira.create_issue"
    assert not await rig.sender.attempt(create)  # the ticket is made; cockpit does not know
    assert rig.service.get(inc.id).links.ticket is None

    queued = actions.set_status(inc.id, Status.FIXING).queued
    assert [i.operation for i in queued if i.operation.startswith("jira.")] == ["jira.transition"]
    queued = actions.set_severity(inc.id, Severity.CRITICAL).queued
    assert "jira.set_severity" in [i.operation for i in queued]
    rig.clock.advance(seconds=120)
    await rig.drain_all()
    (issue,) = [i for i in rig.state()["jira"]["issues"].values() if i["project"] == "INCIDENT"]
    assert issue["status"].upper() == "FIXING"
    assert issue["priority"] == "Highest"
    assert rig.service.get(inc.id).links.ticket is not None


async def test_each_update_sent_starts_the_update_clock_again(rig: Rig) -> None:
    """The header's UPDATE countdown and the templates' last/next update run from the last
    update sent: the status page's and a stakeholder update's, at the time each went out
    (a teammate's, applied from the channel, does the same: tests/unit/test_team_events)."""
    actions = IncidentActions(rig.service, calendar=rig.settings.support.calendar())
    thread = rig.report("Card payments fail at checkout")
    raised = actions.raise_incident("Checkout payments failing", thread=thread)
    assert raised.incident is not None
    inc = raised.incident
    await rig.drain_all()
    assert rig.service.get(inc.id).last_update_at is None

    rig.clock.advance(minutes=3)
    draft = rig.service.new_draft(inc.id, "statuspage-investigating")
    actions.send_draft(inc.id, draft.id, components=["Payments"])
    await rig.drain_all()
    [opened] = [e for e in rig.store.timeline(inc.id) if "status-page incident" in e.text]
    assert opened.text == "status-page incident opened: investigating (Payments)"
    assert rig.service.get(inc.id).last_update_at == opened.event_at == rig.clock.now()

    rig.clock.advance(minutes=20)
    draft = rig.service.new_draft(inc.id, "stakeholder-update")
    actions.send_draft(inc.id, draft.id)
    await rig.drain_all()
    assert rig.service.get(inc.id).last_update_at == rig.clock.now()
    # an update already counted, finished again (a restart's retry), moves nothing back
    later = rig.service.get(inc.id)
    assert not later.update_sent(opened.event_at) and later.last_update_at == rig.clock.now()
