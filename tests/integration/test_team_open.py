"""`I`'s team incidents: the open incident tickets found in the drill range's Jira, and
joining one this cockpit does not hold (from the raise in the report's thread, or from
the ticket and its channel link when it was raised by hand)."""

from __future__ import annotations

from typing import cast

from cockpit.application.tracker import TrackerMap
from cockpit.application.tracker_team import find_open, held_tickets, received_for
from cockpit.domain.incident import Role, Severity, Status
from cockpit.domain.team import TeamKey
from cockpit.integrations.jira.client import JiraClient
from cockpit.sandbox.server import SandboxServer
from tests.integration.test_two_responders import Cockpit, pair, report

__all__ = ["pair"]  # (the fixture: two cockpits on one drill range)


def jira_of(c: Cockpit) -> tuple[JiraClient, TrackerMap, str]:
    s = c.settings.jira
    assert s is not None
    return cast(JiraClient, c.clients["jira"]), TrackerMap.of_settings(s), s.project


def held(c: Cockpit) -> dict[str, str]:
    return held_tickets(c.store.load_incidents([s.id for s in c.store.list_incidents()]))


async def test_the_teams_open_incidents_are_found_and_joined(
    pair: tuple[Cockpit, Cockpit, SandboxServer],
) -> None:
    ada, bo, server = pair
    server.state.jira_site.search_lag = 0
    link = report(server, "Logins time out for everyone in the EU")
    done = ada.actions.raise_incident("Logins time out", thread=link, reported_at="-10m")
    assert done.incident is not None
    a_id = done.incident.id
    await ada.drain()  # (its ticket and channel first)
    ada.actions.set_severity(a_id, Severity.CRITICAL)
    ada.actions.set_status(a_id, Status.FIXING)
    ada.actions.assign_roles(a_id, comms="carol")
    ada.actions.tick(a_id, "post-kickoff")
    # and one raised by hand, with no report in Slack
    by_hand = ada.actions.raise_incident("Nightly export stuck")
    assert by_hand.incident is not None
    ada.actions.set_severity(by_hand.incident.id, Severity.MINOR)
    # and one that ended: not listed
    ended = ada.actions.raise_incident("Blip on the status page")
    assert ended.incident is not None
    await ada.drain()
    ada.actions.cancel(ended.incident.id, "a monitoring blip")
    await ada.drain()
    a_key = TeamKey.of(ada.service.get(a_id))

    jira, tmap, project = jira_of(bo)
    found = await find_open(jira, project, tmap, held(bo))
    titles = [f.title for f in found]
    assert "Logins time out" in titles and "Nightly export stuck" in titles
    assert "Blip on the status page" not in titles
    first = next(f for f in found if f.title == "Logins time out")
    assert first.ticket == a_key.ticket and not first.held
    assert first.status is Status.FIXING and first.severity is Severity.CRITICAL
    assert first.thread == link

    # Bo joins it: the raise in the report's thread, then the channel's history
    received = await received_for(first, jira, bo.watch)
    assert received.event.origin != "jira"  # Ada's cockpit's own raise
    b_inc = bo.team.join(received)
    await bo.watch.read(b_inc.id, TeamKey.of(b_inc).channel)
    b_inc = bo.service.get(b_inc.id)
    assert TeamKey.of(b_inc) == a_key
    assert b_inc.status is Status.FIXING and b_inc.severity is Severity.CRITICAL
    assert b_inc.roles.get(Role.COMMS) == "carol"
    assert bo.store.ticks(b_inc.id)["post-kickoff"].ticked
    again = await find_open(jira, project, tmap, held(bo))
    assert next(f for f in again if f.ticket == a_key.ticket).held == b_inc.id

    # the one raised by hand: made from the ticket and its channel link
    other = next(f for f in again if f.title == "Nightly export stuck")
    assert other.thread == ""
    received = await received_for(other, jira, bo.watch)
    assert received.event.origin == "jira"
    joined = bo.team.join(received)
    key = TeamKey.of(ada.service.get(by_hand.incident.id))
    assert TeamKey.of(joined) == key and key.channel
    assert joined.title == "Nightly export stuck" and joined.severity is Severity.MINOR
    await bo.watch.read(joined.id, key.channel)
    assert bo.service.get(joined.id).status is Status.REPORTED
