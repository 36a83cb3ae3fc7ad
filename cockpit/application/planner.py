"""What each playbook action (and each draft sent) asks of the remote systems.

A plan is a list of outbox items, queued together and sent in order. Message texts come
either from the draft the user confirmed (`text`: exactly what they saw) or, for the
automatic steps of raising, from a template rendered when the item is sent (`template`),
so that a reply names the channel created a moment before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from cockpit.domain.drafts import Draft
from cockpit.domain.escape import slack_escape
from cockpit.domain.incident import Incident, Severity, Status
from cockpit.domain.outbox import OutboxItem

if TYPE_CHECKING:
    from cockpit.config import EscalationTarget

# where a Slack draft goes, by template
SLACK_TARGET = {
    "thread-reply": "thread",
    "not-an-incident": "thread",
    "stakeholder-update": "thread",
    "resolution-update": "thread",
    "kickoff": "channel",
}
STATUSPAGE_STATUS = {
    "statuspage-investigating": "investigating",
    "statuspage-identified": "identified",
    "statuspage-monitoring": "monitoring",
    "statuspage-resolved": "resolved",
}
# the public impact of an incident, by its severity (unset: the page works it out from
# the components' statuses)
STATUSPAGE_IMPACT: dict[Severity | None, str | None] = {
    None: None,
    Severity.MINOR: "minor",
    Severity.MAJOR: "major",
    Severity.CRITICAL: "critical",
}
# the affected components' status while the incident is open, by its severity
COMPONENT_STATUS: dict[Severity | None, str] = {
    None: "partial_outage",
    Severity.MINOR: "degraded_performance",
    Severity.MAJOR: "partial_outage",
    Severity.CRITICAL: "major_outage",
}


def component_status(status: str, severity: Severity | None) -> str:
    """What a status-page update sets its components to: back to operational when
    resolved, degraded while a fix is watched, else the severity's outage."""
    if status == "resolved":
        return "operational"
    if status == "monitoring":
        return "degraded_performance"
    return COMPONENT_STATUS[severity]


def statuspage_title(
    status: str, components: Sequence[str], comp_status: str, *, notify: bool, opening: bool
) -> str:
    """The item's title, as the confirm dialog shows it: what the page will say about
    which component, and whether subscribers get told."""
    what = "Open the status-page incident" if opening else "Status page"
    words = comp_status.replace("_", " ")
    named = "; ".join(f"{c}: {words}" for c in components) or "no component named"
    told = "subscribers notified" if notify else "subscribers not notified"
    return f"{what}: {status} ({named}; {told})"


# Slack drafts that also go on the ticket as a comment (the playbook: meaningful updates
# go on the ticket and the timeline)
TICKET_UPDATES = frozenset({"stakeholder-update"})

# playbook actions whose remote part is a status change of the ticket
TRANSITIONS = {
    "mark-fixing": Status.FIXING,
    "mark-monitoring": Status.MONITORING,
    "mark-resolved": Status.RESOLVED,
}


class Planner:
    def __init__(self, configured: frozenset[str], coming: frozenset[str] = frozenset()) -> None:
        self.configured = configured
        # the links whose create is queued but not through yet ("ticket", "channel",
        # "status_page"): what goes to them is queued behind the create, in order
        self.coming = coming

    def expecting(self, coming: frozenset[str]) -> Planner:
        """This planner, for an incident whose `coming` links are on their way: a step
        that needs one (the ticket's transition, the page's next update) is planned and
        goes behind its create, never dropped and never made a second create."""
        return Planner(self.configured, coming)

    def _ticket(self, incident: Incident) -> bool:
        return incident.links.ticket is not None or "ticket" in self.coming

    def _item(
        self,
        incident: Incident,
        operation: str,
        title: str,
        at: datetime,
        item_id: str = "",
        draft_id: str = "",
        **params: object,
    ) -> OutboxItem:
        return OutboxItem.new(
            incident.id, operation, title, dict(params), at=at, item_id=item_id, draft_id=draft_id
        )

    def raise_chain(self, incident: Incident, at: datetime) -> list[OutboxItem]:
        """Raise → ticket (links the thread) → #incident-N (linked from the ticket) →
        reply in the original thread pointing to both."""
        items = self.for_action("create-ticket", incident, at, item_id="create-ticket")
        items += self.for_action("create-channel", incident, at, item_id="create-channel")
        if incident.links.thread is not None:
            items += self.for_action("reply-in-thread", incident, at, item_id="reply-in-thread")
        return items

    def for_action(
        self, action: str, incident: Incident, at: datetime, *, item_id: str = ""
    ) -> list[OutboxItem]:
        """The remote part of a checklist action (the local part is done by the caller)."""
        jira, slack = "jira" in self.configured, "slack" in self.configured
        if action == "create-ticket" and jira:
            return [
                self._item(
                    incident, "jira.create_issue", "Create the incident ticket", at, item_id=item_id
                )
            ]
        if action == "create-channel" and slack:
            items = [
                self._item(
                    incident,
                    "slack.create_channel",
                    "Create the incident channel",
                    at,
                    item_id=item_id,
                )
            ]
            if jira:
                items.append(
                    self._item(
                        incident,
                        "jira.remote_link",
                        "Link the channel from the ticket",
                        at,
                        what="channel",
                        item_id="link-thread",
                    )
                )
            return items
        if action == "reply-in-thread" and slack:
            return [
                self._item(
                    incident,
                    "slack.post",
                    "Reply in the original thread",
                    at,
                    to="thread",
                    template="thread-reply",
                    item_id=item_id,
                )
            ]
        if action == "post-kickoff" and slack:
            return [
                self._item(
                    incident,
                    "slack.post",
                    "Kick-off in the incident channel",
                    at,
                    to="channel",
                    template="kickoff",
                    item_id=item_id,
                )
            ]
        if action in TRANSITIONS and jira and self._ticket(incident):
            to = TRANSITIONS[action]
            items = [
                self._item(
                    incident,
                    "jira.transition",
                    f"Mark {to.label} in Jira",
                    at,
                    to=to.value,
                    assign_me=to is Status.FIXING,
                    item_id=item_id,
                )
            ]
            if to is Status.RESOLVED and slack and incident.links.thread is not None:
                items.append(
                    self._item(
                        incident,
                        "slack.post",
                        "Final update in the thread",
                        at,
                        to="thread",
                        template="resolution-update",
                    )
                )
            return items
        if action == "cancel-incident" and self._ticket(incident) and jira:
            items = [
                self._item(
                    incident,
                    "jira.transition",
                    "Mark CANCELED in Jira",
                    at,
                    to="canceled",
                    item_id=item_id,
                )
            ]
            if slack and incident.links.thread is not None:
                items.append(
                    self._item(
                        incident,
                        "slack.post",
                        "Kind reply in the thread",
                        at,
                        to="thread",
                        template="not-an-incident",
                    )
                )
            return items
        if action == "final-update" and jira and self._ticket(incident):
            return [
                self._item(
                    incident,
                    "jira.comment",
                    "Final update on the ticket",
                    at,
                    template="resolution-update",
                    markup="slack",  # the template writes Slack mrkdwn: made ADF on the way
                    item_id=item_id,
                )
            ]
        if action == "set-severity" and jira and self._ticket(incident):
            return [
                self._item(
                    incident,
                    "jira.set_severity",
                    "Set the ticket's priority and severity",
                    at,
                    item_id=item_id,
                )
            ]
        return []

    def milestone(
        self, incident: Incident, text: str, at: datetime, *, item_id: str = ""
    ) -> list[OutboxItem]:
        """A milestone (a note the person wrote) as a comment on the ticket."""
        if "jira" not in self.configured or not self._ticket(incident):
            return []
        return [
            self._item(
                incident,
                "jira.comment",
                "Milestone on the ticket",
                at,
                text=text,
                markup="plain",
                item_id=item_id,
            )
        ]

    def follow_up(
        self, incident: Incident, summary: str, at: datetime, *, kind: str, item_id: str = ""
    ) -> list[OutboxItem]:
        title = "Create the bug, linked" if kind == "bug" else "Create a follow-up ticket"
        return [
            self._item(
                incident,
                "jira.create_follow_up",
                title,
                at,
                summary=summary,
                kind=kind,
                item_id=item_id,
            )
        ]

    def link_bug(
        self, incident: Incident, key: str, at: datetime, *, item_id: str = ""
    ) -> list[OutboxItem]:
        return [
            self._item(incident, "jira.link_issue", f"Link bug {key}", at, key=key, item_id=item_id)
        ]

    def escalate(
        self,
        incident: Incident,
        target: EscalationTarget,
        at: datetime,
        *,
        item_id: str = "escalate",
    ) -> list[OutboxItem]:
        """Invite the system's point people to the incident channel and tell them why."""
        if "slack" not in self.configured or not target.slack_ids:
            return []
        # the mentions are ours; the title, names and links are escaped for Slack mrkdwn
        esc = slack_escape
        mentions = " ".join(f"<@{uid}>" for uid in target.slack_ids)
        lines = [
            f"{mentions} you are pulled in as point people for *{esc(target.name)}*: "
            f"{esc(incident.title)}."
        ]
        if incident.links.ticket is not None:
            ticket = incident.links.ticket
            lines.append(f"Ticket: {esc(ticket.label)} ({esc(ticket.url)})")
        if incident.commander:
            lines.append(f"Incident Commander: {esc(incident.commander)}")
        for link in target.links:
            lines.append(f"• {link}")
        return [
            self._item(
                incident,
                "slack.invite",
                f"Invite the {target.name} point people",
                at,
                users=list(target.slack_ids),
            ),
            self._item(
                incident,
                "slack.post",
                f"Escalate to {target.name}",
                at,
                to="channel",
                text="\n".join(lines),
                item_id=item_id,
            ),
        ]

    def for_draft(
        self,
        draft: Draft,
        incident: Incident,
        at: datetime,
        *,
        components: Sequence[str] | None = None,
    ) -> list[OutboxItem]:
        """Send a draft, exactly as the user saw it. Empty when it has nowhere to go.
        `components`: the status page's affected components (default: the incident's)."""
        if draft.template in STATUSPAGE_STATUS and "statuspage" in self.configured:
            return self.statuspage(draft, incident, at, components=components)
        if draft.template in SLACK_TARGET and "slack" in self.configured:
            to = SLACK_TARGET[draft.template]
            item_id = {
                "thread-reply": "reply-in-thread",
                "kickoff": "post-kickoff",
                "stakeholder-update": "share-workarounds",
            }.get(draft.template, "")
            items = [
                self._item(
                    incident,
                    "slack.post",
                    draft.title,
                    at,
                    draft_id=draft.id,
                    to=to,
                    text=draft.body,
                    item_id=item_id,
                )
            ]
            if (
                draft.template in TICKET_UPDATES
                and "jira" in self.configured
                and self._ticket(incident)
            ):
                # updates go on the ticket too, as the playbook asks (ADF made from them)
                items.append(
                    self._item(
                        incident,
                        "jira.comment",
                        "The update on the ticket",
                        at,
                        text=draft.body,
                        markup="slack",
                    )
                )
            return items
        return []

    def statuspage(
        self,
        draft: Draft,
        incident: Incident,
        at: datetime,
        *,
        components: Sequence[str] | None = None,
        notify: bool = True,
    ) -> list[OutboxItem]:
        """A status-page update: its status, the affected components (by name) and their
        status, the impact (from the severity) and whether subscribers are notified.
        While the page's incident is on its way (its create queued, its answer perhaps
        lost), this one updates it once it is there instead of opening another."""
        status = STATUSPAGE_STATUS[draft.template]
        names = list(incident.affected_components if components is None else components)
        comp_status = component_status(status, incident.severity)
        params: dict[str, object] = {
            "status": status,
            "text": draft.body,
            "components": names,
            "component_status": comp_status,
            "impact": STATUSPAGE_IMPACT[incident.severity],
            "notify": notify,
        }
        create = incident.links.status_page is None and "status_page" not in self.coming
        title = statuspage_title(status, names, comp_status, notify=notify, opening=create)
        if create:
            items = [
                self._item(
                    incident,
                    "statuspage.create",
                    title,
                    at,
                    draft_id=draft.id,
                    item_id="statuspage-acknowledge",
                    **params,
                )
            ]
            if "jira" in self.configured and self._ticket(incident):
                items.append(
                    self._item(
                        incident,
                        "jira.remote_link",
                        "Link the status page from the ticket",
                        at,
                        what="status_page",
                    )
                )
            return items
        item_id = "statuspage-resolve" if status == "resolved" else "statuspage-progress"
        return [
            self._item(
                incident,
                "statuspage.update",
                title,
                at,
                draft_id=draft.id,
                item_id=item_id,
                **params,
            )
        ]
