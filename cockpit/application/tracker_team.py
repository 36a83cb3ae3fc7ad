"""The team's open incidents, found in the tracker: `I` lists those this machine does not
hold too, and choosing one joins it.

`find_open` is one JQL search in the incidents project for the open tickets cockpit made
(label `cockpit`, status category not Done). `received_for` turns one into what
`TeamSync.join` takes: the `raised` event its raiser's cockpit replied with in the
report's thread (the report's permalink is in the ticket's description), or, when there
is no such thread (raised by hand), one made from the ticket itself (its summary,
created time, status, severity) and its remote link to the incident's channel. The
channel's history (`ChannelWatch`) brings the rest once joined: roles, checklist,
timeline.

Remote text (summaries, links) is sanitized as it enters (the client's `sanitize_tree`,
the team event's schema).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cockpit.application.team import ChannelWatch
from cockpit.application.tracker import TicketState, TrackerMap
from cockpit.domain.clock import to_iso
from cockpit.domain.incident import Incident, Link, Severity, Status
from cockpit.domain.team import BadEvent, Received, TeamEvent, TeamKey, TeamKind
from cockpit.integrations.jira.client import jira_time

ORIGIN = "jira"  # the origin of a raise made from a ticket
LIMIT = 50  # the team's open incidents listed (the newest)
_THREAD = re.compile(r"https://[A-Za-z0-9.-]+/archives/[CG][A-Z0-9]{2,20}/p\d{16}[^\s\"<>]*")
_CHANNEL = re.compile(r"/archives/([CG][A-Z0-9]{2,20})(?:$|[/?#])")


@dataclass(frozen=True)
class TeamIncident:
    """An open incident ticket in the tracker (maybe held here too: `held`)."""

    ticket: str
    url: str
    title: str
    status: Status | None  # as the status map reads Jira's (None: not one of ours)
    jira_status: str
    severity: Severity | None
    created: datetime | None
    thread: str = ""  # the report's permalink, from the description
    held: str = ""  # the local incident's id, when this machine has it


class IssueSource(Protocol):
    """What this needs of Jira's client (`JiraClient`)."""

    async def search(
        self, jql: str, fields: Iterable[str] = ..., *, max_results: int = ..., limit: int = ...
    ) -> Sequence[Any]: ...

    async def remote_links(self, key: str) -> list[tuple[str, str]]: ...


def open_jql(project: str) -> str:
    from cockpit.integrations.jira.client import jql_string

    return (
        f"project = {jql_string(project)} AND labels = cockpit "
        "AND statusCategory != Done ORDER BY created DESC"
    )


async def find_open(
    jira: IssueSource,
    project: str,
    tmap: TrackerMap,
    held: Mapping[str, str],
) -> list[TeamIncident]:
    """The newest open incident tickets of `project` (`held`: ticket → local incident id)."""
    fields = ["summary", "status", "priority", "created", "description"]
    if tmap.severity_field:
        fields.append(tmap.severity_field)
    issues = await jira.search(open_jql(project), fields, max_results=LIMIT, limit=LIMIT)
    out = []
    for issue in issues:
        f = issue.fields if isinstance(issue.fields, dict) else {}
        state = TicketState.of_fields(issue.key, f, tmap.severity_field)
        severity = tmap.severity_of(state) or tmap.severity_of(state, by_priority=True)
        found = _THREAD.search(json.dumps(f.get("description") or {}))
        out.append(
            TeamIncident(
                ticket=issue.key,
                url=issue.url,
                title=issue.summary or issue.key,
                status=tmap.status_of(state, {}),
                jira_status=state.status,
                severity=severity,
                created=jira_time(f.get("created")),
                thread=found.group(0) if found else "",
                held=held.get(issue.key, ""),
            )
        )
    return out


async def received_for(
    found: TeamIncident, jira: IssueSource, watch: ChannelWatch | None
) -> Received:
    """What `TeamSync.join` takes for this ticket (see the module doc)."""
    from cockpit.integrations.outbox import thread_of

    where = thread_of(Link(found.thread)) if found.thread and watch is not None else None
    if where is not None and watch is not None:
        raised = await watch.look_for_raise(*where)
        if raised is not None and raised.event.key.ticket == found.ticket:
            return raised
    channel_url = channel_name = ""
    for url, title in await jira.remote_links(found.ticket):
        if _CHANNEL.search(url):
            channel_url, channel_name = url, title.lstrip("#")
            break
    return raised_from_ticket(found, channel_url, channel_name)


def raised_from_ticket(found: TeamIncident, channel_url: str, channel_name: str) -> Received:
    """A `raised` event made from the ticket (no cockpit's reply to read it from)."""
    m = _CHANNEL.search(channel_url)
    key = TeamKey(found.ticket, m.group(1) if m else "")
    created = found.created
    if created is None:
        raise BadEvent(f"{found.ticket} has no creation time")
    # (an open ticket in a status of its own: being worked on)
    status = found.status if found.status is not None else Status.FIXING
    data: dict[str, object] = {
        "title": found.title,
        "reported_at": to_iso(created),
        "status": status.value,
        "severity": found.severity.value if found.severity else "",
        "ticket_url": found.url,
    }
    if channel_url:
        data["channel_url"] = channel_url
        data["channel_name"] = channel_name
    if found.thread:
        data["thread"] = found.thread
    event = TeamEvent.new(TeamKind.RAISED, key, data, at=created, by="", origin=ORIGIN)
    return Received(event, ts=f"{created.timestamp():.6f}", channel=key.channel)


def held_tickets(incidents: Iterable[Incident]) -> dict[str, str]:
    """Ticket → local incident id."""
    out = {}
    for inc in incidents:
        ticket = TeamKey.of(inc).ticket
        if ticket:
            out[ticket] = inc.id
    return out
