"""Jira's outbox operations: jira.create_issue, jira.transition, jira.comment,
jira.set_severity, jira.remote_link, jira.create_follow_up, jira.link_issue.

The incident ticket is created with what the project requires: before the first create
the project's create screen is read (createmeta), and the ticket gets `[jira.fields]`, the
severity's priority (when the screen has Priority) and custom severity field, the
components of the affected services and the configured labels; a required field still
without a value fails the item at once, naming the field and where its value goes
(`MissingFields`), rather than sending what Jira would refuse. A transition whose screen
asks for fields (a Resolution) gets them from `[jira.transition_fields.<status>]`.
Comments (milestones, updates, the final update) are ADF made from the message: Slack
mrkdwn becomes marks and links (`adf.from_mrkdwn`), never literal markup.

After an uncertain attempt an issue we made is found by its marker label
(`marker_label`), even while Jira's search index lags the write (`JiraClient.find_created`
reads the newest keys directly), a comment by its comment property; the others are
idempotent. An operation of two requests with an effect is two durable steps (`Step`),
each done once:

* jira.transition: "transition" (find: the issue's status is the one asked for, or its
  changelog has it moved there since the item was queued: someone moved it on after our
  move went through, and sending ours again would undo theirs) → "assign" (when asked;
  idempotent);
* jira.create_follow_up: "create" (find: its marker label) → "link" (find: the link is
  on the ticket).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cockpit.domain.errors import CockpitError
from cockpit.domain.incident import Incident, Link
from cockpit.domain.outbox import OutboxItem
from cockpit.domain.timeline import TimelineEntry
from cockpit.integrations import adf
from cockpit.integrations.base import HandlerContext, Handlers, Operation, Outcome, Step
from cockpit.integrations.jira.client import CreateMeta, JiraClient, MissingFields
from cockpit.integrations.jira.settings import JiraSettings, jira_settings

# how far Jira's clock may run behind ours when a changelog entry is read against the time
# an outbox item was queued
TRANSITION_SKEW = timedelta(seconds=30)

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
        self._metas: dict[tuple[str, str], CreateMeta] = {}
        self._link_type = ""
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
            "set_severity": Operation(self.set_severity),
        }

    def _settings(self) -> JiraSettings:
        return jira_settings(self.settings)

    async def account_id(self) -> str:
        """The token's own account id, asked once (myself)."""
        if not self._account:
            self._account = (await self.ctx.client.myself()).account_id
        return self._account

    async def create_meta(self, project: str, issue_type: str) -> CreateMeta:
        """The project's create screen for `issue_type`, read once (createmeta)."""
        key = (project, issue_type)
        if key not in self._metas:
            self._metas[key] = await self.ctx.client.create_meta(project, issue_type)
        return self._metas[key]

    # -- jira.create_issue -------------------------------------------------------------------
    async def create_issue(self, item: OutboxItem, incident: Incident) -> Outcome:
        jira, s = self.ctx.client, self._settings()
        meta = await self.create_meta(s.project, s.issue_type)
        extra = ticket_fields(s, incident, meta)
        require_fields(meta, extra, s.project)
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
            labels=["incident", "cockpit", *s.labels, *incident.labels, marker_label(item)],
            properties={"cockpit": {"marker": item.id, "incident": incident.id}},
            extra=extra,
        )
        return _ticket_outcome(created.key, created.url)

    async def find_create_issue(self, item: OutboxItem, incident: Incident) -> Outcome | None:
        s = self._settings()
        found = await self.ctx.client.find_created(s.project, marker_label(item))
        return _ticket_outcome(found.key, found.url) if found else None

    # -- jira.set_severity -------------------------------------------------------------------
    async def set_severity(self, item: OutboxItem, incident: Incident) -> Outcome:
        """The ticket's priority and severity field follow the incident's severity (as it
        is when this is sent: a later change queues its own)."""
        jira, s = self.ctx.client, self._settings()
        key = ticket_key(incident)
        meta = await self.create_meta(s.project, s.issue_type)
        fields = severity_fields(s, incident, meta)
        await jira.edit_fields(key, fields)
        severity = incident.severity.label if incident.severity else "not set"
        shown = ", ".join(
            f"{meta.fields[f].name if f in meta.fields else f} {_shown(v)}"
            for f, v in fields.items()
        )
        return Outcome(
            remote_id=key,
            remote_link=jira.browse_url(key),
            text=f"{key} severity {severity}" + (f": {shown}" if shown else " (no field to set)"),
        )

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
        """Step "transition" (a repeat when the issue is there already sends nothing); the
        fields its screen asks for come from [jira.transition_fields.<status>]."""
        to = str(item.params["to"])
        await self.ctx.client.transition_to(
            ticket_key(incident),
            self._transition_name(item),
            fields=self._settings().transition_fields.get(to, {}),
            config_key=f"jira.transition_fields.{to}",
        )
        return {}

    async def find_transition(self, item: OutboxItem, incident: Incident) -> dict[str, Any] | None:
        jira = self.ctx.client
        key, wanted = ticket_key(incident), self._transition_name(item).casefold()
        issue = await jira.get_issue(key, fields=("status",))
        if issue.status.casefold() == wanted:
            return {}
        # not there now: was it moved there since the item was queued (by our attempt
        # whose answer was lost, or by anyone) and on again since? Then it is done, and a
        # second move would undo the later one. (Jira's clock may run behind ours.)
        since = item.created_at - TRANSITION_SKEW
        moved = any(
            c.after.casefold() == wanted and c.at is not None and c.at >= since
            for c in await jira.status_changes(key)
        )
        return {} if moved else None

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
            key, comment_adf(item, self.ctx.text(item, incident)), marker=item.id
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
        bug = item.params.get("kind") == "bug"
        project = s.follow_up_project or s.project
        issue_type = s.bug_issue_type if bug else s.follow_up_issue_type
        meta = await self.create_meta(project, issue_type)
        extra = follow_up_fields(s, incident, meta)
        require_fields(meta, extra, project)
        what = "Bug found in" if bug else "Follow-up of"
        created = await jira.create_issue(
            project,
            summary,
            adf.adf_doc(
                adf.paragraph(f"{what} ", adf.text(key, href=jira.browse_url(key)), ": "),
                *adf.from_plain(incident.title)["content"],
            ),
            meta.issue_type or issue_type,
            labels=["bug" if bug else "follow-up", marker_label(item)],
            extra=extra,
        )
        return {"key": created.key, "url": created.url}

    async def find_create_follow_up(
        self, item: OutboxItem, incident: Incident
    ) -> dict[str, Any] | None:
        s = self._settings()
        found = await self.ctx.client.find_created(
            s.follow_up_project or s.project, marker_label(item)
        )
        return {"key": found.key, "url": found.url} if found else None

    async def link_type(self) -> str:
        """The configured link type, as the site names it (read once from /issueLinkType):
        matched by name, or by its inward or outward words ("relates to")."""
        if not self._link_type:
            wanted = self._settings().link_type.strip()
            types = await self.ctx.client.link_type_names()
            folded = wanted.casefold()
            chosen = next((t for t in types if t[0].casefold() == folded), None) or next(
                (t for t in types if folded in (t[1].casefold(), t[2].casefold())), None
            )
            if chosen is None:
                names = ", ".join(t[0] for t in types) or "none"
                raise MissingFields(
                    "Jira",
                    f"the site has no issue link type {wanted!r}",
                    hint=f"link types there: {names}; set link_type in [jira]",
                    code="link_type_not_found",
                )
            self._link_type = chosen[0]
        return self._link_type

    async def link_follow_up(self, item: OutboxItem, incident: Incident) -> dict[str, Any]:
        """Step "link": the ticket links the follow-up, with a link type the site has."""
        await self.ctx.client.link_issues(
            ticket_key(incident), str(item.step_facts("create")["key"]), await self.link_type()
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
        await jira.link_issues(key, other, await self.link_type())
        url = jira.browse_url(other)

        def apply(inc: Incident, at: datetime, by: str) -> list[TimelineEntry]:
            if all(x.label != other for x in inc.links.bugs):
                inc.links.bugs.append(Link(url, other))
            return []

        return Outcome(
            remote_id=other, remote_link=url, text=f"{key} linked to bug {other}", apply=apply
        )


# -- what a ticket is created with ---------------------------------------------------------
def severity_fields(s: JiraSettings, incident: Incident, meta: CreateMeta) -> dict[str, Any]:
    """The priority (when the screen has Priority) and the custom severity field (when
    configured) for the incident's severity; nothing for a severity the maps leave out."""
    severity = incident.severity.value if incident.severity else None
    out: dict[str, Any] = {}
    priority = s.severity_priority(severity)
    if priority and meta.has("priority"):
        out["priority"] = {"name": priority}
    value = s.severity_value(severity)
    if s.severity_field and value:
        out[s.severity_field] = {"value": value}
    return out


def ticket_fields(s: JiraSettings, incident: Incident, meta: CreateMeta) -> dict[str, Any]:
    """Every field besides summary, description, labels: `[jira.fields]`, the severity's,
    and the components of the affected services (`[jira.components]`)."""
    out: dict[str, Any] = dict(s.fields)
    out.update(severity_fields(s, incident, meta))
    names = [s.components[c] for c in incident.affected_components if c in s.components]
    if names and meta.has("components"):
        out["components"] = [{"name": n} for n in dict.fromkeys(names)]
    return out


def follow_up_fields(s: JiraSettings, incident: Incident, meta: CreateMeta) -> dict[str, Any]:
    """A follow-up's or a bug's fields: the severity's priority, when its screen has one."""
    severity = incident.severity.value if incident.severity else None
    priority = s.severity_priority(severity)
    return {"priority": {"name": priority}} if priority and meta.has("priority") else {}


def require_fields(meta: CreateMeta, fields: dict[str, Any], project: str) -> None:
    """Fail before sending when the project requires a field cockpit has no value for."""
    missing = meta.missing(fields)
    if not missing:
        return
    names = ", ".join(f"{f.name} ({f.id})" for f in missing)
    first = missing[0]
    if first.id == "priority":
        hint = "map every severity to a priority in [jira.severity] priority (with unset)"
    elif first.id.startswith("customfield_"):
        hint = (
            f'if it is the severity: [jira.severity] field = "{first.id}"; '
            f"else set it in [jira.fields], e.g. {first.id} = {{ value = "
            f'"{first.allowed[0] if first.allowed else "..."}" }}'
        )
    else:
        hint = f"set it in [jira.fields] ({first.id} = ...)"
    raise MissingFields(
        "Jira",
        f"the {project} project requires {names}, and cockpit has no value for it",
        hint=hint,
        code="required_field",
    )


def comment_adf(item: OutboxItem, text: str) -> dict[str, Any]:
    """A comment's document: a message written for Slack (`markup = "slack"`: a
    template's or a draft's) through `adf.from_mrkdwn`, typed text as plain text."""
    if item.params.get("markup") == "slack":
        return adf.from_mrkdwn(text)
    return adf.from_plain(text)


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or value.get("value") or "")
    return str(value)
