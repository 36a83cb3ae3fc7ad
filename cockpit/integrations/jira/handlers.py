"""Jira's outbox operations: jira.create_issue, jira.transition, jira.comment,
jira.remote_link, jira.create_follow_up, jira.link_issue.

After an uncertain attempt an issue we made is found by its marker label
(`marker_label`), a comment by its comment property; the others are idempotent. An
operation of two requests with an effect is two durable steps (`Step`), each done once:

* jira.transition: "transition" (find: the issue's status is the one asked for) →
  "assign" (when asked; idempotent);
* jira.create_follow_up: "create" (find: its marker label) → "link" (find: the link is
  on the ticket).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cockpit.domain.errors import CockpitError
from cockpit.domain.incident import Incident, Link
from cockpit.domain.outbox import OutboxItem
from cockpit.domain.timeline import TimelineEntry
from cockpit.integrations import adf
from cockpit.integrations.base import HandlerContext, Handlers, Operation, Outcome, Step
from cockpit.integrations.jira.client import JiraClient
from cockpit.integrations.jira.settings import JiraSettings, jira_settings

MARKER_LABEL_PREFIX = "cockpit-"


def marker_label(item: OutboxItem) -> str:
    return f"{MARKER_LABEL_PREFIX}{item.id}"


def ticket_key(incident: Incident) -> str:
    if incident.links.ticket is None:
        raise CockpitError("the incident has no ticket yet: create it first")
    return incident.links.ticket.label


def _ticket_outcome(key: str, url: str) -> Outcome:
    def apply(inc: Incident, at: datetime, by: str) -> list[TimelineEntry]:
        link = Link(url, key)
        if inc.acknowledged_at is None:
            return [inc.acknowledge(at=at, by=by, ticket=link)]
        inc.links.ticket = link
        return []

    return Outcome(remote_id=key, remote_link=url, text=f"ticket {key} created", apply=apply)


class JiraHandlers(Handlers[JiraClient]):
    def __init__(self, ctx: HandlerContext[JiraClient]) -> None:
        super().__init__(ctx)
        self._account = ""
        self.operations = {
            "create_issue": Operation(self.create_issue, find=self.find_create_issue),
            "transition": Operation(
                self.transitioned,
                steps=(
                    Step("transition", self.transition, find=self.find_transition),
                    Step("assign", self.assign_me),
                ),
            ),
            "comment": Operation(self.comment, find=self.find_comment, message=True),
            "remote_link": Operation(self.remote_link),
            "create_follow_up": Operation(
                self.follow_up_created,
                steps=(
                    Step("create", self.create_follow_up, find=self.find_create_follow_up),
                    Step("link", self.link_follow_up, find=self.find_follow_up_link),
                ),
            ),
            "link_issue": Operation(self.link_issue),
        }

    def _settings(self) -> JiraSettings:
        return jira_settings(self.settings)

    async def account_id(self) -> str:
        """The token's own account id, asked once (myself)."""
        if not self._account:
            self._account = (await self.ctx.client.myself()).account_id
        return self._account

    # -- jira.create_issue -------------------------------------------------------------------
    async def create_issue(self, item: OutboxItem, incident: Incident) -> Outcome:
        jira, s = self.ctx.client, self._settings()
        blocks = list(adf.from_plain(incident.summary or incident.title)["content"])
        thread = incident.links.thread
        if thread is not None and thread.url.startswith(("https://", "http://")):
            # the report's permalink (made by Slack, or typed by the person raising it):
            # a link cockpit puts there itself, its one link in the description
            blocks.append(adf.paragraph("Reported in Slack: ", adf.text(thread.url, thread.url)))
        blocks.append(adf.paragraph(f"Tracked with cockpit (incident {incident.id})."))
        created = await jira.create_issue(
            s.project,
            incident.title,
            adf.adf_doc(*blocks),
            s.issue_type,
            labels=["incident", "cockpit", marker_label(item)],
            properties={"cockpit": {"marker": item.id, "incident": incident.id}},
        )
        return _ticket_outcome(created.key, created.url)

    async def find_create_issue(self, item: OutboxItem, incident: Incident) -> Outcome | None:
        s = self._settings()
        found = await self.ctx.client.search_by_label(marker_label(item), project=s.project)
        return _ticket_outcome(found[0].key, found[0].url) if found else None

    # -- jira.transition ---------------------------------------------------------------------
    def _transition_name(self, item: OutboxItem) -> str:
        s = self._settings()
        return {
            "fixing": s.transition_fixing,
            "monitoring": s.transition_monitoring,
            "resolved": s.transition_resolved,
            "canceled": s.transition_canceled,
        }[str(item.params["to"])]

    async def transition(self, item: OutboxItem, incident: Incident) -> dict[str, Any]:
        """Step "transition" (a repeat when the issue is there already sends nothing)."""
        await self.ctx.client.transition_to(ticket_key(incident), self._transition_name(item))
        return {}

    async def find_transition(self, item: OutboxItem, incident: Incident) -> dict[str, Any] | None:
        issue = await self.ctx.client.get_issue(ticket_key(incident), fields=("status",))
        return {} if issue.status.casefold() == self._transition_name(item).casefold() else None

    async def assign_me(self, item: OutboxItem, incident: Incident) -> dict[str, Any]:
        """Step "assign": the ticket to the token's own account, when the item asks."""
        if not item.params.get("assign_me"):
            return {}
        account = await self.account_id()
        await self.ctx.client.assign(ticket_key(incident), account)
        return {"account": account}

    async def transitioned(self, item: OutboxItem, incident: Incident) -> Outcome:
        jira = self.ctx.client
        key, name = ticket_key(incident), self._transition_name(item)
        return Outcome(
            remote_id=key, remote_link=jira.browse_url(key), text=f"{key} marked {name} in Jira"
        )

    # -- jira.comment ------------------------------------------------------------------------
    async def comment(self, item: OutboxItem, incident: Incident) -> Outcome:
        jira = self.ctx.client
        key = ticket_key(incident)
        cid = await jira.add_comment(
            key, adf.from_plain(self.ctx.text(item, incident)), marker=item.id
        )
        return Outcome(
            remote_id=cid, remote_link=jira.browse_url(key), text=f"comment added to {key}"
        )

    async def find_comment(self, item: OutboxItem, incident: Incident) -> Outcome | None:
        jira = self.ctx.client
        key = ticket_key(incident)
        cid = await jira.find_comment_with_marker(key, item.id)
        if cid is None:
            return None
        return Outcome(
            remote_id=cid, remote_link=jira.browse_url(key), text=f"comment added to {key}"
        )

    # -- jira.remote_link --------------------------------------------------------------------
    async def remote_link(self, item: OutboxItem, incident: Incident) -> Outcome:
        jira = self.ctx.client
        key = ticket_key(incident)
        what = str(item.params["what"])
        link = incident.links.channel if what == "channel" else incident.links.status_page
        if link is None:
            raise CockpitError(f"the incident has no {what.replace('_', ' ')} link to add")
        title = link.label if what == "channel" else f"Status page: {incident.title}"
        await jira.remote_link(key, link.url, title)
        return Outcome(
            remote_id=key,
            remote_link=jira.browse_url(key),
            text=f"{key} links to {link.label or link.url}",
        )

    # -- jira.create_follow_up ---------------------------------------------------------------
    async def create_follow_up(self, item: OutboxItem, incident: Incident) -> dict[str, Any]:
        """Step "create": the follow-up issue, carrying the item's marker label."""
        jira, s = self.ctx.client, self._settings()
        key = ticket_key(incident)
        summary = str(item.params["summary"])
        project = s.follow_up_project or s.project
        created = await jira.create_issue(
            project,
            summary,
            adf.from_plain(f"Follow-up of {key}: {incident.title}"),
            "Task",
            labels=["follow-up", marker_label(item)],
        )
        return {"key": created.key, "url": created.url}

    async def find_create_follow_up(
        self, item: OutboxItem, incident: Incident
    ) -> dict[str, Any] | None:
        found = await self.ctx.client.search_by_label(marker_label(item))
        return {"key": found[0].key, "url": found[0].url} if found else None

    async def link_follow_up(self, item: OutboxItem, incident: Incident) -> dict[str, Any]:
        """Step "link": the ticket links the follow-up."""
        await self.ctx.client.link_issues(
            ticket_key(incident), str(item.step_facts("create")["key"])
        )
        return {}

    async def find_follow_up_link(
        self, item: OutboxItem, incident: Incident
    ) -> dict[str, Any] | None:
        new_key = str(item.step_facts("create")["key"])
        issue = await self.ctx.client.get_issue(ticket_key(incident), fields=("issuelinks",))
        for link in issue.fields.get("issuelinks") or []:
            if not isinstance(link, dict):
                continue
            for side in ("inwardIssue", "outwardIssue"):
                other = link.get(side)
                if isinstance(other, dict) and other.get("key") == new_key:
                    return {}
        return None

    async def follow_up_created(self, item: OutboxItem, incident: Incident) -> Outcome:
        created = item.step_facts("create")
        key, new_key, url = ticket_key(incident), str(created["key"]), str(created["url"])
        kind = str(item.params.get("kind", "follow-up"))

        def apply(inc: Incident, at: datetime, by: str) -> list[TimelineEntry]:
            target = inc.links.bugs if kind == "bug" else inc.links.follow_ups
            if all(x.label != new_key for x in target):
                target.append(Link(url, new_key))
            return []

        return Outcome(
            remote_id=new_key,
            remote_link=url,
            text=f"{kind} {new_key} created and linked from {key}",
            apply=apply,
        )

    # -- jira.link_issue ---------------------------------------------------------------------
    async def link_issue(self, item: OutboxItem, incident: Incident) -> Outcome:
        jira = self.ctx.client
        key = ticket_key(incident)
        other = str(item.params["key"]).strip().upper()
        await jira.link_issues(key, other)
        url = jira.browse_url(other)

        def apply(inc: Incident, at: datetime, by: str) -> list[TimelineEntry]:
            if all(x.label != other for x in inc.links.bugs):
                inc.links.bugs.append(Link(url, other))
            return []

        return Outcome(
            remote_id=other, remote_link=url, text=f"{key} linked to bug {other}", apply=apply
        )
